package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
)

// auditLog is the gatehouse.AuditLog of a DB. Each method is one statement on
// the pool, but for PruneAudit, which deletes in batches.
type auditLog struct{ db *DB }

var _ gatehouse.AuditLog = auditLog{}

// Audit returns the gatehouse.AuditLog backed by db.
func (db *DB) Audit() gatehouse.AuditLog { return auditLog{db: db} }

// Record appends e as e.Clean() has it; see gatehouse.AuditLog.
func (a auditLog) Record(ctx context.Context, e *gatehouse.AuditEvent) error {
	if e.Event == "" {
		return errors.New("record audit event: no event")
	}
	if e.Outcome != gatehouse.OutcomeSuccess && e.Outcome != gatehouse.OutcomeFailure {
		return fmt.Errorf("record audit event %s: outcome %q is neither %q nor %q",
			e.Event, e.Outcome, gatehouse.OutcomeSuccess, gatehouse.OutcomeFailure)
	}
	c := e.Clean()
	if c.At.IsZero() {
		c.At = a.db.now()
	}
	detail := ""
	if len(c.Detail) > 0 {
		// A map of strings always encodes; json sorts the keys.
		buf, err := json.Marshal(c.Detail)
		if err != nil {
			return fmt.Errorf("record audit event %s: %w", c.Event, err)
		}
		detail = string(buf)
	}
	var userID any // NULL for no account, so that user_id filters and indexes only real ones
	if c.UserID != 0 {
		userID = c.UserID
	}
	var actorID any
	if c.ActorID != 0 {
		actorID = c.ActorID
	}
	var id int64
	err := a.db.pool().queryRow(ctx,
		`INSERT INTO audit_events (at, event, outcome, reason, user_id, actor_id, login, session_id, client_ip, user_agent, request_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.db.dialect.timeValue(c.At), c.Event, c.Outcome, c.Reason, userID, actorID, c.Login, c.SessionID, c.ClientIP,
		c.UserAgent, c.RequestID, detail,
	).Scan(&id)
	if err != nil {
		return fmt.Errorf("record audit event %s: %w", c.Event, err)
	}
	e.ID, e.At = id, c.At
	return nil
}

const selectAudit = `SELECT id, at, event, outcome, reason, user_id, actor_id, login, session_id, client_ip, user_agent, request_id, detail FROM audit_events`

// ListAudit returns a page of events by ascending id (descending with
// f.Newest). The WHERE clause is
// put together from constant conditions only, the values travel as
// arguments, so the set of query texts (and of the dialect's cached
// rewrites) stays small and fixed.
func (a auditLog) ListAudit(ctx context.Context, f gatehouse.AuditFilter) ([]*gatehouse.AuditEvent, error) {
	if f.Limit <= 0 {
		return nil, fmt.Errorf("list audit: limit %d must be positive", f.Limit)
	}
	tv := a.db.dialect.timeValue
	where := []string{`id > ?`}
	args := []any{f.After}
	if f.Before > 0 {
		where, args = append(where, `id < ?`), append(args, f.Before)
	}
	if f.Event != "" {
		where, args = append(where, `event = ?`), append(args, f.Event)
	}
	if f.UserID != 0 {
		where, args = append(where, `user_id = ?`), append(args, f.UserID)
	}
	if f.ActorID != 0 {
		where, args = append(where, `actor_id = ?`), append(args, f.ActorID)
	}
	if f.ClientIP != "" {
		where, args = append(where, `client_ip = ?`), append(args, f.ClientIP)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `at >= ?`), append(args, tv(f.Since.UTC().Truncate(time.Microsecond)))
	}
	if !f.Until.IsZero() {
		where, args = append(where, `at < ?`), append(args, tv(f.Until.UTC().Truncate(time.Microsecond)))
	}
	order := ` ORDER BY id LIMIT ?`
	if f.Newest {
		order = ` ORDER BY id DESC LIMIT ?`
	}
	rows, err := a.db.pool().query(ctx,
		selectAudit+` WHERE `+strings.Join(where, ` AND `)+order, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	events := []*gatehouse.AuditEvent{}
	for rows.Next() {
		e := new(gatehouse.AuditEvent)
		var (
			userID, actorID *int64
			detail          string
		)
		if err := rows.Scan(&e.ID, scanTime(&e.At), &e.Event, &e.Outcome, &e.Reason, &userID, &actorID, &e.Login,
			&e.SessionID, &e.ClientIP, &e.UserAgent, &e.RequestID, &detail); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		if userID != nil {
			e.UserID = *userID
		}
		if actorID != nil {
			e.ActorID = *actorID
		}
		if detail != "" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, fmt.Errorf("list audit: detail of event %d: %w", e.ID, err)
			}
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return events, nil
}

// pruneBatch is how many rows one DELETE of PruneAudit removes at most. Each
// batch is a transaction of its own: the first prune of a large log would
// otherwise hold SQLite's one write lock, and every login's Record with it,
// for as long as it takes to delete millions of rows.
const pruneBatch = 5000

// PruneAudit deletes events older than before, in batches, and records that
// it did; see gatehouse.AuditLog.
func (a auditLog) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	at := a.db.dialect.timeValue(before.UTC().Truncate(time.Microsecond))
	var total int64
	for {
		res, err := a.db.pool().exec(ctx,
			`DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? ORDER BY id LIMIT ?)`,
			at, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune audit: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune audit: %w", err)
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	if total == 0 {
		return 0, nil
	}
	err := a.Record(ctx, &gatehouse.AuditEvent{
		Event:   gatehouse.EventAuditPruned,
		Outcome: gatehouse.OutcomeSuccess,
		Detail: map[string]string{
			"deleted": strconv.FormatInt(total, 10),
			"before":  before.UTC().Format(time.RFC3339Nano),
		},
	})
	if err != nil {
		return total, fmt.Errorf("prune audit: %w", err)
	}
	return total, nil
}
