package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the tutorial's database is read directly, not through sqldb

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
	"github.com/gatehouse-auth/gatehouse/internal/pwhash"
)

const importUsage = "usage: gatehouse import seed-sqlite PATH [flags] | gatehouse import users FILE.jsonl|- [flags]"

// importCmd runs `gatehouse import seed-sqlite PATH` (the Python tutorial's
// SQLite database) and `gatehouse import users FILE.jsonl` (one JSON object
// per line, from any other system; "-" reads standard input), into the
// database the server uses (same flags and variables).
//
// Users keep their password hashes, which are verified at login and replaced
// by argon2id then; ids are kept where free. Each row is imported, skipped
// (the account exists: the import can be run again) or refused with its
// reasons, and the import goes on; the report names rows by id or line and
// never shows a hash. The command fails when a row was refused, so that a
// script does not go on as if every user had moved, or when the store fails,
// which stops it.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "seed-sqlite" && args[0] != "users") {
		return errors.New(importUsage)
	}
	kind, args := args[0], args[1:]
	if len(args) == 0 || args[0] == "" || (strings.HasPrefix(args[0], "-") && args[0] != "-") {
		if len(args) > 0 && isHelp(args[0]) {
			_, err := loadConfig(args[:1], getenv, stderr)
			return err
		}
		return errors.New(importUsage)
	}
	path, flags := args[0], args[1:]
	cfg, err := loadConfig(flags, getenv, stderr)
	if err != nil {
		return err
	}

	// The source is opened and checked first, so that a wrong path or file
	// fails before the store is opened (and perhaps created).
	var src importSource
	switch kind {
	case "seed-sqlite":
		src, err = openSeedSQLite(ctx, path)
	default:
		src, err = openJSONL(path, stdin)
	}
	if err != nil {
		return err
	}
	defer src.Close()

	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	admin := auth.NewAdmin(auth.AdminDeps{
		Users:  db.Users(),
		Hasher: pwhash.New(pwhash.DefaultParams),
		Policy: passwordPolicy(cfg),
		Logger: log,
	})

	rep := &importReport{w: stdout, catalog: i18n.New(i18n.English)}
	// Rows whose id another account holds are imported last: the new ids
	// they get are then above every id this import keeps.
	var later []importRow
	err = src.each(ctx, func(row importRow) error {
		if row.problem == "" {
			taken, err := admin.IDTakenByAnother(ctx, row.in)
			if err != nil {
				return fmt.Errorf("%s: %w", row.ref, err)
			}
			if taken {
				later = append(later, row)
				return nil
			}
		}
		return rep.add(ctx, admin, row)
	})
	for _, row := range later {
		if err != nil {
			break
		}
		err = rep.add(ctx, admin, row)
	}
	fmt.Fprintf(stdout, "imported %d, skipped existing %d, refused %d\n", rep.imported, rep.existing, rep.refused)
	if err != nil {
		return fmt.Errorf("import stopped: %w", err)
	}
	if rep.refused > 0 {
		return fmt.Errorf("%d of %d rows refused (listed above); the rest are in, and the import can be run again",
			rep.refused, rep.imported+rep.existing+rep.refused)
	}
	return nil
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// importRow is one user read from a source.
type importRow struct {
	// ref names the row in reports ("id 7", "line 12 (id 7)"); it never
	// holds the row's content.
	ref string
	in  auth.ImportInput
	// problem is set when the row could not be read; it is refused with
	// this reason.
	problem string
	// note is something the reader worked around, reported when the row is
	// imported.
	note string
}

// importSource yields the rows of one source, in order.
type importSource interface {
	each(ctx context.Context, fn func(importRow) error) error
	Close() error
}

// importReport counts outcomes and prints the lines that need an operator's
// eye: refusals, new ids and notes.
type importReport struct {
	w                           io.Writer
	catalog                     *i18n.Catalog
	imported, existing, refused int
}

// add imports one row. Only a failure of the store itself is returned: it
// stops the import, since every following row would likely fail alike.
func (r *importReport) add(ctx context.Context, admin *auth.Admin, row importRow) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if row.problem != "" {
		r.refused++
		fmt.Fprintf(r.w, "refused %s: %s\n", row.ref, row.problem)
		return nil
	}
	u, created, err := admin.ImportUser(ctx, row.in)
	switch gatehouse.ErrorCode(err) {
	case "":
		if !created {
			r.existing++
			return nil
		}
		r.imported++
		if row.in.ID != 0 && u.ID != row.in.ID {
			fmt.Fprintf(r.w, "%s: id %d is taken here; imported as user %d\n", row.ref, row.in.ID, u.ID)
		}
		if row.note != "" {
			fmt.Fprintf(r.w, "%s: %s\n", row.ref, row.note)
		}
		return nil
	case gatehouse.CodeValidation, gatehouse.CodeUsernameTaken, gatehouse.CodeEmailTaken, gatehouse.CodeConflict:
		r.refused++
		fmt.Fprintf(r.w, "refused %s: %s\n", row.ref, describeError(r.catalog, err))
		return nil
	}
	return fmt.Errorf("%s: %w", row.ref, err)
}

// importTexts are the English texts of problems only the command line
// reports, which the HTTP catalogs therefore lack.
var importTexts = map[string]string{
	auth.ProblemHashUnsupported: "not a password hash gatehouse can verify",
	auth.ProblemHashMalformed:   "password hash unusable",
}

// describeError renders a *gatehouse.Error for an operator, in one line:
// each field's problem as "field: text [type]", or the error's own text and
// code. It shows codes, catalog texts, pwhash's reasons (which never quote a
// hash) and user ids; never a submitted value.
func describeError(catalog *i18n.Catalog, err error) string {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	text := func(key string, args map[string]any) string {
		if t, ok := importTexts[key]; ok {
			if reason, ok := args["reason"].(string); ok {
				t += ": " + strings.TrimPrefix(reason, "pwhash: ")
			}
			return t
		}
		return catalog.Message(i18n.English, key, args)
	}
	if len(e.Fields) == 0 {
		s := text(e.MessageKey(), e.Args)
		if id, ok := e.Args["user_id"]; ok {
			s += fmt.Sprintf(" (by user %v)", id)
		}
		s += " [" + e.Code + "]"
		// The codes of a taken name say which field it is.
		if field, ok := map[string]string{gatehouse.CodeUsernameTaken: "username", gatehouse.CodeEmailTaken: "email"}[e.Code]; ok {
			s = field + ": " + s
		}
		return s
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, fmt.Sprintf("%s: %s [%s]", f.Loc[len(f.Loc)-1], text(f.Key, f.Args), f.Type))
	}
	return strings.Join(parts, "; ")
}

// seedSQLite reads the users table of the Python tutorial's database.
type seedSQLite struct {
	db *sql.DB
}

// seedQuery reads the tutorial's users, as its SQLAlchemy model defines them.
const seedQuery = `SELECT id, username, email, hashed_password, is_active, created_at FROM users ORDER BY id`

// openSeedSQLite opens the tutorial's database read-only — the tutorial may
// still be serving from it, and an import must never change its source — and
// checks that it has the users table.
func openSeedSQLite(ctx context.Context, path string) (*seedSQLite, error) {
	// mode=ro would not create a missing file either, but this error names
	// the problem plainly.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("tutorial database: %w", err)
	}
	// A file: URI, so that '?' or '#' in the path is not read as the start
	// of the parameters; busy_timeout waits out a write the running tutorial
	// may be making.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	db, err := sql.Open("sqlite", "file:"+escaped+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("tutorial database: %w", err)
	}
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, seedQuery+` LIMIT 0`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s is not the tutorial's database (want a users table with id, username, email, hashed_password, is_active, created_at): %w", path, err)
	}
	rows.Close()
	return &seedSQLite{db: db}, nil
}

func (s *seedSQLite) Close() error { return s.db.Close() }

// each reads every row in one query, which SQLite answers from one
// consistent snapshot.
func (s *seedSQLite) each(ctx context.Context, fn func(importRow) error) error {
	rows, err := s.db.QueryContext(ctx, seedQuery)
	if err != nil {
		return fmt.Errorf("read tutorial users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		// Scanned as they come: SQLite stores whatever a column was given,
		// and one odd value must refuse its row, not stop the import.
		var id, username, email, hash, active, created any
		if err := rows.Scan(&id, &username, &email, &hash, &active, &created); err != nil {
			return fmt.Errorf("read tutorial users: %w", err)
		}
		if err := fn(seedRow(id, username, email, hash, active, created)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read tutorial users: %w", err)
	}
	return nil
}

// seedRow turns the values of one tutorial row into an importRow.
func seedRow(id, username, email, hash, active, created any) importRow {
	n, ok := id.(int64)
	if !ok {
		// INTEGER PRIMARY KEY is the rowid: always an integer.
		return importRow{ref: "a row", problem: "id is not an integer"}
	}
	row := importRow{ref: "id " + strconv.FormatInt(n, 10), in: auth.ImportInput{ID: n}}
	var problems []string
	for _, f := range []struct {
		name string
		v    any
		dst  *string
	}{
		{"username", username, &row.in.Username},
		{"email", email, &row.in.Email},
		{"hashed_password", hash, &row.in.PasswordHash},
	} {
		switch v := f.v.(type) {
		case string:
			*f.dst = v
		case []byte:
			*f.dst = string(v)
		case nil:
			// NOT NULL in the tutorial; refused as missing by ImportUser.
		default:
			problems = append(problems, f.name+": not text")
		}
	}
	// The tutorial's get_current_user refuses a user whose is_active is
	// false or NULL (`if not user.is_active`), so NULL imports as inactive.
	switch v := active.(type) {
	case int64:
		row.in.IsActive = v != 0
	case bool:
		row.in.IsActive = v
	case nil:
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, "is_active: neither 0 nor 1")
		}
		row.in.IsActive = b
	default:
		problems = append(problems, "is_active: neither 0 nor 1")
	}
	// created_at is DATETIME DEFAULT CURRENT_TIMESTAMP: UTC text, which the
	// driver already decodes for a column declared DATETIME. NULL, or a
	// value that reads as no time, gets the import's time: the row is not
	// worth refusing over it.
	switch v := created.(type) {
	case time.Time:
		row.in.CreatedAt = v.UTC()
	case string:
		if t, err := parseTimestamp(v); err == nil {
			row.in.CreatedAt = t
		} else {
			row.note = "created_at unreadable: the import's time is used"
		}
	case nil:
	default:
		row.note = "created_at unreadable: the import's time is used"
	}
	if len(problems) > 0 {
		row.problem = strings.Join(problems, "; ")
	}
	return row
}

// parseTimestamp reads RFC 3339, or SQL's "YYYY-MM-DD HH:MM:SS[.fraction]"
// (also with a 'T') as UTC, which is what SQLite's CURRENT_TIMESTAMP and
// SQLAlchemy write.
func parseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("want RFC 3339 or YYYY-MM-DD HH:MM:SS")
}

// jsonlSource reads `gatehouse import users` files: one JSON object per
// line,
//
//	{"id": 7, "username": "alice", "email": "alice@example.com",
//	 "password_hash": "$2b$12$…", "is_active": true, "created_at": "2024-05-01T12:00:00Z"}
//
// where id (kept if free), is_active (default true) and created_at (RFC 3339;
// default the import's time) are optional. Unknown fields refuse the row, so
// that a misspelt "is_activ" does not silently activate an account. Blank
// lines are skipped.
type jsonlSource struct {
	r io.Reader
	c io.Closer
}

// maxJSONLLine bounds one line; a longer one is refused without being held
// in memory. A real row is a few hundred bytes.
const maxJSONLLine = 64 << 10

func openJSONL(path string, stdin io.Reader) (*jsonlSource, error) {
	if path == "-" {
		if stdin == nil {
			return nil, errors.New("import users: no standard input to read")
		}
		return &jsonlSource{r: stdin}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import users: %w", err)
	}
	return &jsonlSource{r: f, c: f}, nil
}

func (s *jsonlSource) Close() error {
	if s.c == nil {
		return nil
	}
	return s.c.Close()
}

func (s *jsonlSource) each(ctx context.Context, fn func(importRow) error) error {
	br := bufio.NewReaderSize(s.r, 64<<10)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, maxJSONLLine)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF")) // a byte order mark some editors write
		}
		line = bytes.TrimSpace(line)
		ref := "line " + strconv.Itoa(n)
		switch {
		case tooLong:
			if ferr := fn(importRow{ref: ref, problem: fmt.Sprintf("longer than %d bytes", maxJSONLLine)}); ferr != nil {
				return ferr
			}
		case len(line) > 0:
			if ferr := fn(jsonlRow(ref, line)); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads up to and including the next '\n', keeping at most max
// bytes; tooLong reports that more were dropped. err is io.EOF after the last
// line, which may then be unterminated.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			tooLong = true
			line = line[:0]
		} else if !tooLong {
			line = append(line, chunk...)
		}
		if err != bufio.ErrBufferFull {
			return line, tooLong, err
		}
	}
}

// jsonlUser is one line of an import file. Pointers tell an absent field
// from a zero one.
type jsonlUser struct {
	ID           *int64  `json:"id"`
	Username     *string `json:"username"`
	Email        *string `json:"email"`
	PasswordHash *string `json:"password_hash"`
	IsActive     *bool   `json:"is_active"`
	CreatedAt    *string `json:"created_at"`
}

// jsonlRow decodes one line. Decoding errors are described in our words:
// the decoder's own may quote bytes of the line, which may hold a hash.
func jsonlRow(ref string, line []byte) importRow {
	var u jsonlUser
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return importRow{ref: ref, problem: describeJSONError(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return importRow{ref: ref, problem: "more than one JSON value on the line"}
	}
	row := importRow{ref: ref, in: auth.ImportInput{IsActive: true}}
	if u.ID != nil {
		row.ref = fmt.Sprintf("%s (id %d)", ref, *u.ID)
		if *u.ID <= 0 {
			return importRow{ref: row.ref, problem: "id: not a positive integer"}
		}
		row.in.ID = *u.ID
	}
	for _, f := range []struct {
		src *string
		dst *string
	}{{u.Username, &row.in.Username}, {u.Email, &row.in.Email}, {u.PasswordHash, &row.in.PasswordHash}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if u.IsActive != nil {
		row.in.IsActive = *u.IsActive
	}
	if u.CreatedAt != nil && *u.CreatedAt != "" {
		t, err := parseTimestamp(*u.CreatedAt)
		if err != nil {
			return importRow{ref: row.ref, problem: "created_at: " + err.Error()}
		}
		row.in.CreatedAt = t
	}
	return row
}

func describeJSONError(err error) string {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("not a JSON object (syntax error at byte %d)", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("%s: want a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.As(err, &typ):
		return "not a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "not a JSON object (cut short)"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// Field names are the file's keys, not its values.
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not a JSON object"
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "int64":
		return "integer"
	case "bool":
		return "boolean"
	}
	return kind
}
