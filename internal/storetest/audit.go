package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse"
)

// RunAuditLog runs the AuditLog conformance suite against logs made by
// newLog (called once per subtest; each must be empty and isolated). The
// subtests run in parallel, so newLog may be called concurrently.
//
// Events are stamped at whole seconds of auditEpoch, which every store keeps
// exactly, except where the store's own clock is under test.
func RunAuditLog(t *testing.T, newLog func(t *testing.T) gatehouse.AuditLog) {
	tests := []struct {
		name string
		test func(t *testing.T, l gatehouse.AuditLog)
	}{
		{"Empty", testAuditEmpty},
		{"RecordAndList", testAuditRecordAndList},
		{"RecordStampsTime", testAuditRecordStampsTime},
		{"RecordRefusesInvalid", testAuditRecordRefusesInvalid},
		{"Filters", testAuditFilters},
		{"Paging", testAuditPaging},
		{"LimitRequired", testAuditLimitRequired},
		{"Prune", testAuditPrune},
		{"DetailRoundTrip", testAuditDetailRoundTrip},
		{"LoginOnlyForKnownAccount", testAuditLoginOnlyForKnownAccount},
		{"LongAndInvalidStrings", testAuditLongAndInvalidStrings},
		{"ConcurrentRecord", testAuditConcurrentRecord},
		{"Actor", testAuditActor},
		{"Newest", testAuditNewest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newLog(t))
		})
	}
}

var auditEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// auditAt returns the time min minutes after auditEpoch.
func auditAt(min int) time.Time { return auditEpoch.Add(time.Duration(min) * time.Minute) }

// record records each event, failing tb on an error, and returns them.
func record(tb testing.TB, l gatehouse.AuditLog, events ...*gatehouse.AuditEvent) []*gatehouse.AuditEvent {
	tb.Helper()
	for _, e := range events {
		if err := l.Record(tb.Context(), e); err != nil {
			tb.Fatalf("Record(%s): %v", e.Event, err)
		}
	}
	return events
}

func listAudit(tb testing.TB, l gatehouse.AuditLog, f gatehouse.AuditFilter) []*gatehouse.AuditEvent {
	tb.Helper()
	if f.Limit == 0 {
		f.Limit = 1000
	}
	got, err := l.ListAudit(tb.Context(), f)
	if err != nil {
		tb.Fatalf("ListAudit(%+v): %v", f, err)
	}
	return got
}

// stored is how the log must give e back: cleaned, with the id it was given.
func stored(e *gatehouse.AuditEvent) *gatehouse.AuditEvent {
	c := e.Clean()
	return &c
}

// checkAudit compares a listing with the events expected, in order.
func checkAudit(tb testing.TB, got, want []*gatehouse.AuditEvent) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("listed %d events %v, want %d %v", len(got), auditIDs(got), len(want), auditIDs(want))
	}
	for i := range want {
		g, w := *got[i], *want[i]
		if !g.At.Equal(w.At) {
			tb.Errorf("event %d: At = %v, want %v", w.ID, g.At, w.At)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			tb.Errorf("event %d:\n got  %+v\n want %+v", w.ID, g, w)
		}
	}
}

func auditIDs(events []*gatehouse.AuditEvent) []int64 {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func testAuditEmpty(t *testing.T, l gatehouse.AuditLog) {
	got := listAudit(t, l, gatehouse.AuditFilter{})
	if got == nil || len(got) != 0 {
		t.Errorf("empty log lists %#v, want an empty slice", got)
	}
}

func testAuditRecordAndList(t *testing.T, l gatehouse.AuditLog) {
	events := record(t, l,
		&gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventRegister, Outcome: gatehouse.OutcomeSuccess, UserID: 1,
			Login: "ann", ClientIP: "192.0.2.1", UserAgent: "curl/8.5", RequestID: "req-1"},
		&gatehouse.AuditEvent{At: auditAt(1), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			Reason: gatehouse.CodeInvalidCredentials, UserID: 1, Login: "ann", ClientIP: "2001:db8::1"},
		// Recorded out of time order: the log's order is the id's.
		&gatehouse.AuditEvent{At: auditAt(-5), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeSuccess, UserID: 1,
			Login: "ann", SessionID: "sess-1", ClientIP: "192.0.2.1"},
	)
	for i := 1; i < len(events); i++ {
		if events[i].ID <= events[i-1].ID {
			t.Fatalf("ids not ascending: %v", auditIDs(events))
		}
	}
	want := make([]*gatehouse.AuditEvent, len(events))
	for i, e := range events {
		want[i] = stored(e)
	}
	checkAudit(t, listAudit(t, l, gatehouse.AuditFilter{}), want)
}

func testAuditRecordStampsTime(t *testing.T, l gatehouse.AuditLog) {
	before := time.Now().Add(-time.Second)
	e := record(t, l, &gatehouse.AuditEvent{Event: gatehouse.EventLogout, Outcome: gatehouse.OutcomeSuccess, UserID: 3})[0]
	after := time.Now().Add(time.Second)
	if e.At.Before(before) || e.At.After(after) {
		t.Errorf("Record stamped %v, want a time between %v and %v", e.At, before, after)
	}
	checkAudit(t, listAudit(t, l, gatehouse.AuditFilter{}), []*gatehouse.AuditEvent{stored(e)})
}

func testAuditRecordRefusesInvalid(t *testing.T, l gatehouse.AuditLog) {
	tests := []struct {
		name string
		e    gatehouse.AuditEvent
	}{
		{"NoEvent", gatehouse.AuditEvent{At: auditAt(0), Outcome: gatehouse.OutcomeSuccess}},
		{"NoOutcome", gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventLogin}},
		{"UnknownOutcome", gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventLogin, Outcome: "maybe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Record(t.Context(), &tt.e); err == nil {
				t.Error("Record succeeded")
			}
		})
	}
	if got := listAudit(t, l, gatehouse.AuditFilter{}); len(got) != 0 {
		t.Errorf("refused events were stored: %v", auditIDs(got))
	}
}

func testAuditFilters(t *testing.T, l gatehouse.AuditLog) {
	ev := func(min int, event string, user int64, ip string) *gatehouse.AuditEvent {
		return &gatehouse.AuditEvent{At: auditAt(min), Event: event, Outcome: gatehouse.OutcomeSuccess, UserID: user, ClientIP: ip}
	}
	e := record(t, l,
		ev(0, gatehouse.EventRegister, 1, "192.0.2.1"),
		ev(1, gatehouse.EventLogin, 1, "192.0.2.1"),
		ev(2, gatehouse.EventLogin, 2, "192.0.2.2"),
		ev(3, gatehouse.EventRateLimited, 0, "192.0.2.2"),
		ev(4, gatehouse.EventLogout, 2, "192.0.2.2"),
		ev(5, gatehouse.EventLogin, 1, "192.0.2.10"),
	)
	tests := []struct {
		name   string
		filter gatehouse.AuditFilter
		want   []*gatehouse.AuditEvent
	}{
		{"All", gatehouse.AuditFilter{}, e},
		{"Event", gatehouse.AuditFilter{Event: gatehouse.EventLogin}, []*gatehouse.AuditEvent{e[1], e[2], e[5]}},
		{"UnknownEvent", gatehouse.AuditFilter{Event: "nope"}, nil},
		{"EventExact", gatehouse.AuditFilter{Event: "LOGIN"}, nil},
		{"User", gatehouse.AuditFilter{UserID: 2}, []*gatehouse.AuditEvent{e[2], e[4]}},
		// The IP is compared whole: 192.0.2.1 is no prefix of 192.0.2.10.
		{"ClientIP", gatehouse.AuditFilter{ClientIP: "192.0.2.1"}, []*gatehouse.AuditEvent{e[0], e[1]}},
		{"SinceInclusive", gatehouse.AuditFilter{Since: auditAt(4)}, []*gatehouse.AuditEvent{e[4], e[5]}},
		{"UntilExclusive", gatehouse.AuditFilter{Until: auditAt(2)}, []*gatehouse.AuditEvent{e[0], e[1]}},
		{"SinceUntil", gatehouse.AuditFilter{Since: auditAt(1), Until: auditAt(3)}, []*gatehouse.AuditEvent{e[1], e[2]}},
		{"SinceInOtherZone", gatehouse.AuditFilter{Since: auditAt(5).In(time.FixedZone("KST", 9*3600))}, []*gatehouse.AuditEvent{e[5]}},
		{"After", gatehouse.AuditFilter{After: e[3].ID}, []*gatehouse.AuditEvent{e[4], e[5]}},
		{"Combined", gatehouse.AuditFilter{Event: gatehouse.EventLogin, UserID: 1, Since: auditAt(1), After: e[0].ID}, []*gatehouse.AuditEvent{e[1], e[5]}},
		{"Limit", gatehouse.AuditFilter{UserID: 1, Limit: 2}, []*gatehouse.AuditEvent{e[0], e[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := make([]*gatehouse.AuditEvent, len(tt.want))
			for i, w := range tt.want {
				want[i] = stored(w)
			}
			checkAudit(t, listAudit(t, l, tt.filter), want)
		})
	}
}

func testAuditPaging(t *testing.T, l gatehouse.AuditLog) {
	var all []*gatehouse.AuditEvent
	for i := range 7 {
		all = append(all, record(t, l, &gatehouse.AuditEvent{At: auditAt(i), Event: gatehouse.EventRefresh,
			Outcome: gatehouse.OutcomeSuccess, UserID: 9, SessionID: fmt.Sprint("s", i)})...)
		// Other events in between, which the filter skips.
		record(t, l, &gatehouse.AuditEvent{At: auditAt(i), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure})
	}
	var got []*gatehouse.AuditEvent
	after := int64(0)
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatalf("paging did not end; so far %v", auditIDs(got))
		}
		page := listAudit(t, l, gatehouse.AuditFilter{Event: gatehouse.EventRefresh, After: after, Limit: 3})
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	want := make([]*gatehouse.AuditEvent, len(all))
	for i, e := range all {
		want[i] = stored(e)
	}
	checkAudit(t, got, want)
}

func testAuditLimitRequired(t *testing.T, l gatehouse.AuditLog) {
	for _, limit := range []int{0, -1} {
		if _, err := l.ListAudit(t.Context(), gatehouse.AuditFilter{Limit: limit}); err == nil {
			t.Errorf("ListAudit with limit %d succeeded", limit)
		}
	}
}

func testAuditPrune(t *testing.T, l gatehouse.AuditLog) {
	var e []*gatehouse.AuditEvent
	for i := range 5 {
		e = append(e, record(t, l, &gatehouse.AuditEvent{At: auditAt(10 * i), Event: gatehouse.EventLogin,
			Outcome: gatehouse.OutcomeSuccess, UserID: int64(i + 1)})...)
	}
	// Strictly before: the event at auditAt(20) stays.
	n, err := l.PruneAudit(t.Context(), auditAt(20))
	if err != nil || n != 2 {
		t.Fatalf("PruneAudit = %d, %v; want 2 deleted", n, err)
	}
	got := listAudit(t, l, gatehouse.AuditFilter{})
	if len(got) != 4 {
		t.Fatalf("after pruning, %d events %v; want 3 kept and one audit_pruned", len(got), auditIDs(got))
	}
	checkAudit(t, got[:3], []*gatehouse.AuditEvent{stored(e[2]), stored(e[3]), stored(e[4])})
	pruned := got[3]
	if pruned.Event != gatehouse.EventAuditPruned || pruned.Outcome != gatehouse.OutcomeSuccess ||
		pruned.Detail["deleted"] != "2" || pruned.Detail["before"] != auditAt(20).Format(time.RFC3339Nano) {
		t.Errorf("the prune was recorded as %+v", pruned)
	}
	if pruned.ID <= e[4].ID {
		t.Errorf("audit_pruned has id %d, not after the last event's %d", pruned.ID, e[4].ID)
	}

	// Nothing more to prune: nothing deleted, nothing recorded.
	if n, err := l.PruneAudit(t.Context(), auditAt(20)); err != nil || n != 0 {
		t.Errorf("second PruneAudit = %d, %v; want 0", n, err)
	}
	if got := listAudit(t, l, gatehouse.AuditFilter{}); len(got) != 4 {
		t.Errorf("a prune that deleted nothing left %d events, want 4", len(got))
	}
	// Ids are never handed out again, even once the newest rows are gone:
	// they are the cursor of whoever follows the log.
	if _, err := l.PruneAudit(t.Context(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	next := record(t, l, &gatehouse.AuditEvent{At: auditAt(60), Event: gatehouse.EventLogout, Outcome: gatehouse.OutcomeSuccess})[0]
	if next.ID <= pruned.ID {
		t.Errorf("id %d was handed out after ids up to %d were pruned", next.ID, pruned.ID)
	}
}

func testAuditDetailRoundTrip(t *testing.T, l gatehouse.AuditLog) {
	many := map[string]string{}
	for i := range gatehouse.AuditMaxDetail + 5 {
		many[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
	}
	tests := []struct {
		name   string
		detail map[string]string
		want   map[string]string
	}{
		{"None", nil, nil},
		{"EmptyIsNone", map[string]string{}, nil},
		{"Values", map[string]string{"client_id": "cli", "count": "3", "note": "한국어 \"quoted\" \\ <tag> \n"},
			map[string]string{"client_id": "cli", "count": "3", "note": "한국어 \"quoted\" \\ <tag> \n"}},
		// Whatever is stored under these names is what must never be.
		{"SecretKeysDropped", map[string]string{"password": "hunter2", "refresh_token": "x", "Password_Hash": "$argon2id$", "kid": "k1"},
			map[string]string{"kid": "k1"}},
		{"Bounded", many, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := record(t, l, &gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventKeyRotated,
				Outcome: gatehouse.OutcomeSuccess, Detail: tt.detail})[0]
			got := listAudit(t, l, gatehouse.AuditFilter{After: e.ID - 1, Limit: 1})
			checkAudit(t, got, []*gatehouse.AuditEvent{stored(e)})
			if tt.name == "Bounded" {
				if n := len(got[0].Detail); n != gatehouse.AuditMaxDetail {
					t.Errorf("%d detail entries kept, want %d", n, gatehouse.AuditMaxDetail)
				}
				return
			}
			if !reflect.DeepEqual(got[0].Detail, tt.want) {
				t.Errorf("Detail = %#v, want %#v", got[0].Detail, tt.want)
			}
		})
	}
}

func testAuditLoginOnlyForKnownAccount(t *testing.T, l gatehouse.AuditLog) {
	e := record(t, l,
		&gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			Reason: gatehouse.ReasonWrongPassword, UserID: 4, Login: "ann"},
		// A name matching no account may be a password typed in the wrong
		// field: it is not kept.
		&gatehouse.AuditEvent{At: auditAt(1), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
			Reason: gatehouse.ReasonUnknownUser, Login: "correct horse battery staple", ClientIP: "192.0.2.7"},
	)
	got := listAudit(t, l, gatehouse.AuditFilter{})
	if len(got) != 2 || got[0].Login != "ann" || got[1].Login != "" || got[1].ClientIP != "192.0.2.7" {
		t.Errorf("stored %+v", got)
	}
	if e[1].Login == "" {
		t.Error("Record changed the caller's event")
	}
}

func testAuditLongAndInvalidStrings(t *testing.T, l gatehouse.AuditLog) {
	// 3-byte runes, so that the bounds fall inside a rune.
	long := strings.Repeat("가", 1000)
	e := record(t, l, &gatehouse.AuditEvent{
		At: auditAt(0), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure,
		Reason: "bad\xffreason", UserID: 5, Login: long, SessionID: long, ClientIP: "192.0.2.1\x00",
		UserAgent: long + "\xc3", RequestID: "req\x00\xfe" + long,
		Detail: map[string]string{"ua\xff": long, strings.Repeat("k", 100): "v"},
	})[0]
	got := listAudit(t, l, gatehouse.AuditFilter{})
	checkAudit(t, got, []*gatehouse.AuditEvent{stored(e)})
	g := got[0]
	for name, s := range map[string]string{"Reason": g.Reason, "Login": g.Login, "SessionID": g.SessionID,
		"ClientIP": g.ClientIP, "UserAgent": g.UserAgent, "RequestID": g.RequestID, "Detail": fmt.Sprint(g.Detail)} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Errorf("%s stored as invalid UTF-8 or with NUL: %q", name, s)
		}
	}
	for name, c := range map[string]struct {
		s   string
		max int
	}{
		"Login": {g.Login, gatehouse.AuditMaxLogin}, "SessionID": {g.SessionID, gatehouse.AuditMaxID},
		"UserAgent": {g.UserAgent, gatehouse.AuditMaxUserAgent}, "RequestID": {g.RequestID, gatehouse.AuditMaxID},
	} {
		if len(c.s) > c.max || len(c.s) < c.max-3 {
			t.Errorf("%s is %d bytes, want just under %d", name, len(c.s), c.max)
		}
	}
	if g.ClientIP != "192.0.2.1\uFFFD" {
		t.Errorf("ClientIP = %q", g.ClientIP)
	}
}

func testAuditConcurrentRecord(t *testing.T, l gatehouse.AuditLog) {
	const n = 20
	events := make([]*gatehouse.AuditEvent, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range events {
		events[i] = &gatehouse.AuditEvent{At: auditAt(0), Event: gatehouse.EventRefresh, Outcome: gatehouse.OutcomeSuccess, UserID: int64(i + 1)}
		wg.Go(func() { errs[i] = l.Record(t.Context(), events[i]) })
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
		if seen[events[i].ID] {
			t.Errorf("id %d given twice", events[i].ID)
		}
		seen[events[i].ID] = true
	}
	if got := listAudit(t, l, gatehouse.AuditFilter{}); len(got) != n {
		t.Errorf("listed %d events, want %d", len(got), n)
	}
}
