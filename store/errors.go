package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kpimon/kpimon/kpi"
)

// Errors every backend returns for the same conditions.
var (
	// ErrLocked is what a batch that would change a locked month unwraps to.
	ErrLocked = errors.New("period locked")
	// ErrUnknownToken is what looking up a token that does not exist or was revoked returns.
	ErrUnknownToken = errors.New("unknown or revoked token")
	// ErrNotFound is what an operation on a record that does not exist returns.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable is what an operation returns when the database cannot be reached or
	// stays busy past the wait allowed (a restart, a long write by another process): nothing
	// was written, and the same request can be tried again shortly.
	ErrUnavailable = errors.New("database unavailable")
	// ErrSchemaTooNew is what opening a database written by a newer kpimon unwraps to.
	ErrSchemaTooNew = errors.New("database schema newer than this kpimon")
	// ErrLinkUsed is what opening a login link a second time returns.
	ErrLinkUsed = errors.New("login link already used")
	// ErrLinkExpired is what opening a login link after its expiry returns.
	ErrLinkExpired = errors.New("login link expired")
)

// LockedError is a batch refused because it would change figures of locked months.
type LockedError struct {
	Assessment string       // the assessment's id
	Periods    []kpi.Period // the locked months the batch would have written to
}

func (e *LockedError) Error() string {
	ps := make([]string, len(e.Periods))
	for i, p := range e.Periods {
		ps[i] = p.String()
	}
	hint := "kpimon lock --unlock --period " + ps[0] + " --db …"
	if e.Assessment != "" {
		hint = "kpimon lock --unlock --assessment " + e.Assessment + " --period " + ps[0] + " --db …"
	}
	return fmt.Sprintf("%s 已锁定（月度通报已发布），本批数据未写入；如需更正，请管理员先解锁（%s）", strings.Join(ps, "、"), hint)
}

// Unwrap makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Unwrap() error { return ErrLocked }

// SchemaError is a database whose schema is newer than the one this kpimon knows: it is
// refused before anything is written to it.
type SchemaError struct {
	Database string // the file or the address, without secrets
	Found    int    // the schema version in the database
	Known    int    // the newest schema version this kpimon knows
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("数据库 %s 的结构版本为 %d，比本程序支持的版本 %d 新：它由更新版本的 kpimon 写入，请升级 kpimon 后再打开（数据库未作任何改动）",
		e.Database, e.Found, e.Known)
}

// Unwrap makes errors.Is(err, ErrSchemaTooNew) hold.
func (e *SchemaError) Unwrap() error { return ErrSchemaTooNew }
