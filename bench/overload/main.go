// Command overload floods gatehouse's login with several times what password
// hashing can serve while measuring GET /users/me, and reports, from one run:
//
//   - login throughput against the hash-bound ceiling (cores ÷ hash time);
//   - the share of flood requests answered 503 (overloaded), and how fast;
//   - /users/me p50/p99 without the flood and during it (target: p99 under
//     the flood within 2× its p99 without).
//
// It builds and starts its own gatehouse on 127.0.0.1 (loopback only, bounded
// in time, stops by itself):
//
//	go run ./bench/overload [-duration 10s] [-flood 32] [-readers 8] [-control] [-hash-priority idle|low|normal]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "overload:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 10*time.Second, "length of each phase")
	flood := flag.Int("flood", 32, "concurrent login flooders")
	times := flag.Float64("times", 4, "flood rate, as a multiple of the hash-bound ceiling (0: as fast as the flooders can)")
	readers := flag.Int("readers", 8, "concurrent /users/me clients")
	priority := flag.String("hash-priority", "idle", "GATEHOUSE_HASH_PRIORITY of the server under test: idle, low or normal")
	control := flag.Bool("control", false, "also measure /users/me under an equal-rate flood of GET /healthz (no hashing)")
	floodChild := flag.String("flood-child", "", "internal: run only a flood against this base URL and report as JSON")
	floodPath := flag.String("flood-path", "/auth/login", "internal: the flood child's route")
	floodRate := flag.Float64("flood-rate", 0, "internal: the flood child's rate per second")
	readRate := flag.Float64("read-rate", 1000, "/users/me requests per second, sent at a fixed pace (0: as fast as the clients can, which measures throughput, not latency)")
	flag.Parse()
	if *duration > time.Minute+2*time.Second {
		return fmt.Errorf("-duration is capped at 1m")
	}
	if *floodChild != "" {
		return floodOnly(*floodChild, *floodPath, *flood, *floodRate, *duration)
	}

	hashTime := measureHash()
	ceiling := float64(runtime.NumCPU()) / hashTime.Seconds()
	fmt.Printf("argon2id hash: %v per hash; %d cores → ceiling %.0f hashes/s\n", hashTime.Round(time.Millisecond), runtime.NumCPU(), ceiling)

	base, stop, err := startGatehouse(*priority)
	if err != nil {
		return err
	}
	defer stop()
	token, err := setup(base)
	if err != nil {
		return err
	}

	quiet := readPhase(base, token, *readers, *duration, *readRate)
	fmt.Printf("\n/users/me without flood: %d requests, p50 %v, p99 %v\n", len(quiet), pct(quiet, 50), pct(quiet, 99))

	rate := *times * ceiling
	if *times > 0 {
		fmt.Printf("flood rate: %.0f logins/s (%.0f× the ceiling)\n", rate, *times)
	}
	// The flood runs in a process of its own, so that its goroutines never
	// delay this process's readers: the readers measure the server, not
	// their own scheduling behind 32 flooders.
	flooder, err := startFlood(base, "/auth/login", *flood, rate, *duration+2*time.Second)
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // let the flood build up
	loud := readPhase(base, token, *readers, *duration, *readRate)
	f, err := flooder.wait()
	if err != nil {
		return err
	}

	fmt.Printf("/users/me during flood:  %d requests, p50 %v, p99 %v\n", len(loud), pct(loud, 50), pct(loud, 99))
	elapsed := f.Elapsed
	total := f.Answered + f.Rejected + f.Other
	fmt.Printf("\nlogin flood: %d requests in %v from %d clients\n", total, elapsed.Round(time.Second), *flood)
	fmt.Printf("  hashed and answered (200/401): %d = %.1f/s (%.0f%% of the %.0f/s ceiling)\n",
		f.Answered, float64(f.Answered)/elapsed.Seconds(), 100*float64(f.Answered)/elapsed.Seconds()/ceiling, ceiling)
	fmt.Printf("  answered 503 at once: %d = %.0f%% of the flood (p50 %v, p99 %v)\n",
		f.Rejected, 100*float64(f.Rejected)/float64(max(total, 1)), f.RejectP50, f.RejectP99)
	if f.Other > 0 {
		fmt.Printf("  other answers or errors: %d\n", f.Other)
	}
	if *control {
		// The same request rate at a route that does no hashing at all
		// (GET /healthz): what the flood's HTTP traffic alone costs the
		// readers on a machine shared with the load generator.
		ctl, err := startFlood(base, "/healthz", *flood, rate, *duration+2*time.Second)
		if err != nil {
			return err
		}
		time.Sleep(time.Second)
		same := readPhase(base, token, *readers, *duration, *readRate)
		if _, err := ctl.wait(); err != nil {
			return err
		}
		fmt.Printf("\ncontrol, /users/me during an equal-rate flood of GET /healthz: p50 %v, p99 %v (%.2f× the quiet p99)\n",
			pct(same, 50), pct(same, 99), float64(pct(same, 99))/float64(max(pct(quiet, 99), 1)))
	}
	ratio := float64(pct(loud, 99)) / float64(max(pct(quiet, 99), 1))
	verdict := "meets"
	if ratio > 2 {
		verdict = "MISSES"
	}
	fmt.Printf("\n/users/me p99 under flood / without: %.2f× (%s the ≤ 2× target)\n", ratio, verdict)
	return nil
}

// measureHash times the production argon2id parameters in this process.
func measureHash() time.Duration {
	h := pwhash.New(pwhash.DefaultParams)
	h.Hash("warm-up")
	var ds []time.Duration
	for range 5 {
		start := time.Now()
		h.Hash("correct horse battery staple")
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startGatehouse builds and starts a development gatehouse with rate limits
// off (this measures the hashing gate, not the limiter: a real flood comes
// from many addresses).
func startGatehouse(priority string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "gatehouse-overload-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-auth/gatehouse/cmd/gatehouse")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", nil, fmt.Errorf("build: %w", err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "GATEHOUSE_ADDR=127.0.0.1:0", "GATEHOUSE_DATA_DIR=" + filepath.Join(dir, "data"),
		"GATEHOUSE_LOG_FORMAT=text", "GATEHOUSE_ISSUER=http://gatehouse.bench",
		"GATEHOUSE_RATE_LIMIT_LOGIN_IP=0", "GATEHOUSE_RATE_LIMIT_LOGIN_ACCOUNT=0",
		"GATEHOUSE_RATE_LIMIT_REGISTER_IP=0", "GATEHOUSE_RATE_LIMIT_REFRESH_IP=0",
		"GATEHOUSE_HASH_PRIORITY=" + priority,
	}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1], stop, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("gatehouse did not start:\n%s", logs.String())
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const benchPassword = "overload-bench-password-9"

func setup(base string) (string, error) {
	body := `{"username":"reader","email":"reader@example.com","password":"` + benchPassword + `"}`
	res, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	res.Body.Close()
	res, err = http.PostForm(base+"/auth/login", url.Values{"username": {"reader"}, "password": {benchPassword}})
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("login: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// readPhase runs /users/me clients for d, at rate requests per second in
// all (open loop: a request is due at its time whether or not the previous
// one was answered, so a slow server shows as latency, not as fewer
// requests), and returns every latency.
func readPhase(base, token string, clients int, d time.Duration, rate float64) []time.Duration {
	var mu sync.Mutex
	var all []time.Duration
	end := time.Now().Add(d)
	var pace <-chan time.Time
	if rate > 0 {
		ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer ticker.Stop()
		pace = ticker.C
	}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			req, _ := http.NewRequest("GET", base+"/users/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			var mine []time.Duration
			for time.Now().Before(end) {
				if pace != nil {
					<-pace
				}
				start := time.Now()
				res, err := c.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					mine = append(mine, time.Since(start))
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

// floodReport is what a flood child reports on its stdout.
type floodReport struct {
	Answered, Rejected, Other int64
	RejectP50, RejectP99      time.Duration
	Elapsed                   time.Duration
}

type floodProcess struct {
	cmd *exec.Cmd
	out *strings.Builder
}

// startFlood runs this program again as a flood child for d.
func startFlood(base, path string, clients int, rate float64, d time.Duration) (*floodProcess, error) {
	cmd := exec.Command(os.Args[0], "-flood-child", base, "-flood-path", path,
		"-flood", fmt.Sprint(clients), "-flood-rate", fmt.Sprint(rate), "-duration", d.String())
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start flood: %w", err)
	}
	return &floodProcess{cmd: cmd, out: out}, nil
}

func (p *floodProcess) wait() (floodReport, error) {
	var r floodReport
	if err := p.cmd.Wait(); err != nil {
		return r, fmt.Errorf("flood: %w", err)
	}
	if err := json.Unmarshal([]byte(p.out.String()), &r); err != nil {
		return r, fmt.Errorf("flood report: %w", err)
	}
	return r, nil
}

// floodOnly is the flood child: an open-loop flood of path at rate per
// second (as an attacker's: requests are sent whether or not earlier ones
// were answered) for d, then a JSON report on stdout.
func floodOnly(base, path string, clients int, rate float64, d time.Duration) error {
	var f floodStats
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var pace <-chan time.Time
	if rate > 0 {
		ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer ticker.Stop()
		pace = ticker.C
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { f.run(ctx, base, path, i, pace) })
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return json.NewEncoder(os.Stdout).Encode(floodReport{
		Answered: f.answered.Load(), Rejected: f.rejected.Load(), Other: f.other.Load(),
		RejectP50: pct(f.rejectLatency, 50), RejectP99: pct(f.rejectLatency, 99),
		Elapsed: time.Since(start),
	})
}

type floodStats struct {
	answered, rejected, other atomic.Int64
	mu                        sync.Mutex
	rejectLatency             []time.Duration
}

// run sends wrong-password logins (each costs a hash when admitted) until
// ctx ends; GET /healthz instead when path says so (the control).
func (f *floodStats) run(ctx context.Context, base, path string, i int, pace <-chan time.Time) {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	form := url.Values{"username": {fmt.Sprintf("victim%d", i)}, "password": {"not the password"}}.Encode()
	for ctx.Err() == nil {
		if pace != nil {
			select {
			case <-pace:
			case <-ctx.Done():
				return
			}
		}
		var req *http.Request
		if path == "/auth/login" {
			req, _ = http.NewRequestWithContext(ctx, "POST", base+path, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequestWithContext(ctx, "GET", base+path, nil)
		}
		start := time.Now()
		res, err := c.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				f.other.Add(1)
			}
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusOK, http.StatusUnauthorized:
			f.answered.Add(1)
		case http.StatusServiceUnavailable:
			f.rejected.Add(1)
			f.mu.Lock()
			f.rejectLatency = append(f.rejectLatency, time.Since(start))
			f.mu.Unlock()
			// A well-behaved client honours Retry-After; a flood does not.
		default:
			f.other.Add(1)
		}
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, len(s)*p/100)
	return s[i].Round(10 * time.Microsecond)
}
