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
//	go run ./bench/overload [-duration 10s] [-flood 32] [-readers 4]
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
	readRate := flag.Float64("read-rate", 1000, "/users/me requests per second, sent at a fixed pace (0: as fast as the clients can, which measures throughput, not latency)")
	flag.Parse()
	if *duration > time.Minute {
		return fmt.Errorf("-duration is capped at 1m")
	}

	hashTime := measureHash()
	ceiling := float64(runtime.NumCPU()) / hashTime.Seconds()
	fmt.Printf("argon2id hash: %v per hash; %d cores → ceiling %.0f hashes/s\n", hashTime.Round(time.Millisecond), runtime.NumCPU(), ceiling)

	base, stop, err := startGatehouse()
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

	var f floodStats
	ctx, cancel := context.WithCancel(context.Background())
	// An open-loop flood: requests are sent at a fixed rate whether or not
	// earlier ones were answered, as an attacker's would be.
	var pace <-chan time.Time
	if *times > 0 {
		rate := *times * ceiling
		fmt.Printf("flood rate: %.0f logins/s (%.0f× the ceiling)\n", rate, *times)
		ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer ticker.Stop()
		pace = ticker.C
	}
	var wg sync.WaitGroup
	for i := range *flood {
		wg.Go(func() { f.run(ctx, base, i, pace) })
	}
	time.Sleep(time.Second) // let the flood build up
	loud := readPhase(base, token, *readers, *duration, *readRate)
	cancel()
	wg.Wait()
	elapsed := *duration + time.Second

	fmt.Printf("/users/me during flood:  %d requests, p50 %v, p99 %v\n", len(loud), pct(loud, 50), pct(loud, 99))
	hashed := f.answered.Load()
	total := hashed + f.rejected.Load() + f.other.Load()
	fmt.Printf("\nlogin flood: %d requests in %v from %d clients\n", total, elapsed.Round(time.Second), *flood)
	fmt.Printf("  hashed and answered (200/401): %d = %.1f/s (%.0f%% of the %.0f/s ceiling)\n",
		hashed, float64(hashed)/elapsed.Seconds(), 100*float64(hashed)/elapsed.Seconds()/ceiling, ceiling)
	f.mu.Lock()
	rej := f.rejectLatency
	f.mu.Unlock()
	fmt.Printf("  answered 503 at once: %d = %.0f%% of the flood (p50 %v, p99 %v)\n",
		f.rejected.Load(), 100*float64(f.rejected.Load())/float64(max(total, 1)), pct(rej, 50), pct(rej, 99))
	if n := f.other.Load(); n > 0 {
		fmt.Printf("  other answers or errors: %d\n", n)
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
func startGatehouse() (string, func(), error) {
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

type floodStats struct {
	answered, rejected, other atomic.Int64
	mu                        sync.Mutex
	rejectLatency             []time.Duration
}

// run sends wrong-password logins (each costs a hash when admitted) until
// ctx ends.
func (f *floodStats) run(ctx context.Context, base string, i int, pace <-chan time.Time) {
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
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/auth/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
