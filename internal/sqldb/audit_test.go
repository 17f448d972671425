package sqldb_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

func TestAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunAuditLog(t, func(t *testing.T) gatehouse.AuditLog {
			return newDB(t, b).Audit()
		})
	})
}

// TestAuditPruneBatches prunes more rows than one batch deletes, so that the
// loop over batches is exercised, and checks the count it reports.
func TestAuditPruneBatches(t *testing.T) {
	db := newDB(t, sqlite)
	const n = 5000*2 + 7
	// One INSERT … SELECT rather than n Records: what is under test is the
	// delete.
	_, err := db.SQL().ExecContext(t.Context(), `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO audit_events (at, event, outcome) SELECT '2026-01-01 00:00:00.000000', 'login', 'success' FROM seq`, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Audit().PruneAudit(t.Context(), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || got != n {
		t.Fatalf("PruneAudit = %d, %v; want %d", got, err, n)
	}
	events, err := db.Audit().ListAudit(t.Context(), gatehouse.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Event != gatehouse.EventAuditPruned {
		t.Errorf("after pruning: %+v", events)
	}
}
