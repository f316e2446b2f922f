package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kpimon/kpimon/kpi"
	"github.com/kpimon/kpimon/store"
)

// configFlags are --config, which may be given several times and may name a directory (every
// *.yaml and *.yml in it, in name order), and --assessment, the id that chooses one of
// them for commands that work on one assessment.
type configFlags struct {
	paths []string
	id    string

	sources map[string]string // each loaded assessment's config file, by id (load)
}

// String is the flag's value as shown in help.
func (c *configFlags) String() string { return strings.Join(c.paths, ",") }

// Set adds one --config.
func (c *configFlags) Set(v string) error {
	c.paths = append(c.paths, v)
	return nil
}

// register adds --config and --assessment to fs.
func (c *configFlags) register(fs *flag.FlagSet, usage string) {
	fs.Var(c, "config", usage+"；可给出多次，或给出目录（其中所有 .yaml 文件）")
	fs.StringVar(&c.id, "assessment", "", "考核编号（config 的 id）：给出多项考核时，用它指明哪一项")
}

// require reports a missing --config as require does.
func (c *configFlags) require(fs *flag.FlagSet) error {
	return require(fs, "config", c.String())
}

// requireWithID refuses --assessment without --config, for a command that checks the
// assessment (and the township) against its config.
func (c *configFlags) requireWithID() error {
	if c.id != "" && len(c.paths) == 0 {
		return usageError{msg: fmt.Sprintf("--assessment %s 须与 --config 一起给出：kpimon 要用考核配置核对考核编号和乡镇，如 --config 配置目录 --assessment %s", c.id, shellArg(c.id))}
	}
	return nil
}

// source is the config file the assessment with the id was loaded from.
func (c *configFlags) source(id string) string { return c.sources[id] }

// files expands the --config values into config files.
func (c *configFlags) files() ([]string, error) {
	var out []string
	for _, p := range c.paths {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("没有读取考核配置 %s 的权限：请检查文件或文件夹的权限", p)
		case err != nil:
			// a mistyped --config is a command-line mistake (status 2)
			return nil, usageError{msg: fmt.Sprintf("考核配置 %s 不存在：请检查 --config", p)}
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var in []string
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			in = append(in, m...)
		}
		if len(in) == 0 {
			return nil, usageError{msg: fmt.Sprintf("目录 %s 中没有考核配置（.yaml 文件）：请检查 --config", p)}
		}
		sort.Strings(in)
		out = append(out, in...)
	}
	return out, nil
}

// load reads every config, printing each one's warnings; ids must be unique.
func (c *configFlags) load(stderr io.Writer) ([]*kpi.Assessment, error) {
	files, err := c.files()
	if err != nil {
		return nil, err
	}
	var out []*kpi.Assessment
	from := map[string]string{}
	for _, f := range files {
		a, err := kpi.LoadConfig(f)
		if err != nil {
			return nil, err
		}
		for _, w := range a.Warnings {
			fmt.Fprintf(stderr, "%s:%d: 提示：%s\n", f, w.Line, w.Message)
		}
		if prev, dup := from[a.ID]; dup {
			return nil, fmt.Errorf("%s 与 %s 的考核编号（id）都是 %q：请在其中一个配置中写明不同的 id", prev, f, a.ID)
		}
		from[a.ID] = f
		out = append(out, a)
	}
	c.sources = from
	return out, nil
}

// one is the assessment a one-assessment command works on: the one --assessment names, or
// the only one given.
func (c *configFlags) one(all []*kpi.Assessment) (*kpi.Assessment, error) {
	if c.id != "" {
		for _, a := range all {
			if a.ID == c.id {
				return a, nil
			}
		}
		return nil, usageError{msg: fmt.Sprintf("没有编号为 %q 的考核：给出的考核有 %s", c.id, idList(all))}
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return nil, usageError{msg: fmt.Sprintf("给出了 %d 项考核（%s）：请用 --assessment 指明哪一项", len(all), idList(all))}
}

func idList(as []*kpi.Assessment) string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return strings.Join(ids, "、")
}

// open loads the configs, chooses one assessment and opens the store (mustExist: a SQLite
// file must exist), letting every given assessment claim the records an older kpimon wrote.
func (c *configFlags) open(ctx context.Context, dsn string, stderr io.Writer, mustExist bool) (*kpi.Assessment, []*kpi.Assessment, store.Store, error) {
	all, err := c.load(stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := c.one(all)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := openStore(ctx, dsn, mustExist)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, x := range all {
		if _, err := st.ClaimLegacy(ctx, x.ID, x.Year); err != nil {
			st.Close()
			return nil, nil, nil, err
		}
	}
	return a, all, st, nil
}
