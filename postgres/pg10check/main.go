// Command pg10check checks that the SQL of kpimon's postgres package keeps to what
// PostgreSQL 12 accepts, as far as it can be checked without a PostgreSQL 12 server: every
// statement (the migration files, and every string constant of the package's Go files that
// holds a statement) must parse with PostgreSQL 10's grammar — libpg_query 10, through
// github.com/pganalyze/pg_query_go v1 — and may call only the functions listed in known,
// each of which PostgreSQL 12 has.
//
// It is a module of its own (libpg_query is C and takes a few minutes to build), run by
// hand when the package's SQL changes:
//
//	cd postgres/pg10check && go run . ..
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go"
)

// known are the functions the package may call, with the release that introduced them
// (every one is in PostgreSQL 12). A new one is added here once its release is checked.
var known = map[string]string{
	"current_schema":        "7.3",
	"max":                   "any",
	"pg_advisory_lock":      "8.2",
	"pg_advisory_unlock":    "8.2",
	"pg_try_advisory_lock":  "8.2",
	"pg_advisory_xact_lock": "9.1",
	"pg_notify":             "9.0",
	"set_config":            "7.3",
	"to_regclass":           "9.4",
	"unnest":                "8.4 (several arrays in FROM: 9.4)",
}

var statement = regexp.MustCompile(`^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WITH|LISTEN|NOTIFY|ANALYZE|RESET|SET|EXPLAIN|MERGE|COPY)\b`)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pg10check DIR (the postgres package's folder)")
		os.Exit(2)
	}
	dir := os.Args[1]
	var stmts []stmt
	files, _ := filepath.Glob(filepath.Join(dir, "migrations", "*.sql"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		stmts = append(stmts, stmt{f, string(b)})
	}
	gos, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range gos {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			fail(err)
		}
		// the largest constant expressions: a concatenation is one statement
		ast.Inspect(file, func(n ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			s, ok := constString(e)
			if !ok || !statement.MatchString(s) {
				return true
			}
			stmts = append(stmts, stmt{fset.Position(e.Pos()).String(), s})
			return false
		})
	}
	bad := 0
	calls := map[string]bool{}
	for _, s := range stmts {
		tree, err := pg_query.ParseToJSON(s.sql)
		if err != nil {
			bad++
			fmt.Printf("%s: does not parse with PostgreSQL 10's grammar: %v\n%s\n\n", s.where, err, s.sql)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(tree), &v); err != nil {
			fail(err)
		}
		funcCalls(v, func(name string) {
			calls[name] = true
			if _, ok := known[name]; !ok {
				bad++
				fmt.Printf("%s: calls %s, which is not on the list of functions checked against PostgreSQL 12\n", s.where, name)
			}
		})
	}
	var names []string
	for n := range calls {
		names = append(names, n+" ("+known[n]+")")
	}
	sort.Strings(names)
	fmt.Printf("%d statements, functions called: %s\n", len(stmts), strings.Join(names, ", "))
	if bad > 0 {
		fmt.Printf("%d problems\n", bad)
		os.Exit(1)
	}
	fmt.Println("ok: every statement parses with PostgreSQL 10's grammar and calls only functions PostgreSQL 12 has")
}

type stmt struct{ where, sql string }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pg10check:", err)
	os.Exit(2)
}

// constString is the value of a string expression made of literals; a piece that is not a
// literal (a named constant such as a table name or a column list) stands in as an
// identifier, which keeps the statement parseable.
func constString(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		l, ok1 := constString(x.X)
		r, ok2 := constString(x.Y)
		return l + r, ok1 && ok2
	case *ast.Ident, *ast.CallExpr:
		return "x", true
	}
	return "", false
}

// funcCalls calls f with the name of every function call in a parse tree (libpg_query's
// JSON).
func funcCalls(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		if fc, ok := x["FuncCall"].(map[string]any); ok {
			var parts []string
			names, _ := fc["funcname"].([]any)
			for _, p := range names {
				if m, ok := p.(map[string]any); ok {
					if s, ok := m["String"].(map[string]any); ok {
						parts = append(parts, fmt.Sprint(s["str"]))
					}
				}
			}
			f(strings.ToLower(strings.Join(parts, ".")))
		}
		for _, c := range x {
			funcCalls(c, f)
		}
	case []any:
		for _, c := range x {
			funcCalls(c, f)
		}
	}
}
