package gatehouse_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gatehouse-auth/gatehouse"

// TestImportDirection guards the layout of STYLE.md: dependencies point
// inward, and only cmd/gatehouse wires adapters in.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Deps ","}}`, "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, "|")
		deps[pkg] = strings.Split(list, ",")
	}
	if _, ok := deps[module+"/internal/web"]; !ok {
		t.Fatalf("go list did not list internal/web: %s", out)
	}
	adapters := []string{module + "/internal/sqldb", module + "/internal/redis", module + "/internal/inmem", module + "/internal/mail", module + "/internal/upstream"}
	isAdapter := func(p string) bool {
		for _, a := range adapters {
			if p == a {
				return true
			}
		}
		return false
	}
	ours := func(p string) bool { return p == module || strings.HasPrefix(p, module+"/") }
	thirdParty := func(p string) bool { return strings.Contains(strings.Split(p, "/")[0], ".") && !ours(p) }

	for pkg, ds := range deps {
		for _, d := range ds {
			switch {
			case pkg == module && (ours(d) || thirdParty(d)):
				t.Errorf("the domain package imports %s; it may use only the standard library", d)
			case isAdapter(d) && !strings.HasPrefix(pkg, module+"/cmd/") && !strings.HasPrefix(pkg, module+"/internal/storetest"):
				t.Errorf("%s imports the adapter %s; only cmd/gatehouse wires adapters", pkg, d)
			case isAdapter(pkg) && ours(d) && d != module:
				t.Errorf("adapter %s imports %s; adapters import only the domain and their driver", pkg, d)
			case pkg == module+"/internal/auth" && (d == "net/http" || d == "database/sql"):
				t.Errorf("internal/auth imports %s; use cases know nothing of HTTP or SQL", d)
			case strings.HasPrefix(pkg, module+"/internal/web") && d == "database/sql":
				t.Errorf("%s imports database/sql", pkg)
			case strings.HasPrefix(pkg, module+"/verifier") && strings.HasPrefix(d, module+"/internal/"):
				t.Errorf("the public verifier package imports %s", d)
			}
		}
	}
}
