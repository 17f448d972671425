package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse"
)

// testAuditNewest pages through the log newest first, as the admin pages
// show it: Newest orders by descending id, Before is the cursor, and both
// combine with the other filters and with After.
func testAuditNewest(t *testing.T, l gatehouse.AuditLog) {
	var all []*gatehouse.AuditEvent
	for i := range 7 {
		all = append(all, record(t, l, &gatehouse.AuditEvent{At: auditAt(i), Event: gatehouse.EventRefresh,
			Outcome: gatehouse.OutcomeSuccess, UserID: 9, SessionID: fmt.Sprint("s", i)})...)
		record(t, l, &gatehouse.AuditEvent{At: auditAt(i), Event: gatehouse.EventLogin, Outcome: gatehouse.OutcomeFailure})
	}
	var got []*gatehouse.AuditEvent
	before := int64(0)
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatalf("paging did not end; so far %v", auditIDs(got))
		}
		page := listAudit(t, l, gatehouse.AuditFilter{Event: gatehouse.EventRefresh, Newest: true, Before: before, Limit: 3})
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].ID
	}
	want := make([]*gatehouse.AuditEvent, len(all))
	for i, e := range all {
		want[i] = stored(e)
	}
	slices.Reverse(want)
	checkAudit(t, got, want)

	// Before alone bounds an ascending listing too, and After and Before
	// make a window.
	window := listAudit(t, l, gatehouse.AuditFilter{Event: gatehouse.EventRefresh, After: all[1].ID, Before: all[5].ID})
	checkAudit(t, window, []*gatehouse.AuditEvent{stored(all[2]), stored(all[3]), stored(all[4])})
	newest := listAudit(t, l, gatehouse.AuditFilter{UserID: 9, Newest: true, Limit: 1})
	checkAudit(t, newest, []*gatehouse.AuditEvent{stored(all[6])})
}
