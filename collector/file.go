package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// AddFile reads one file into the batch, choosing the format as AddBytes does. Errors name
// the file by its base name, or by the path given when two files of the batch share a base
// name (东城街道.csv from two folders).
func (b *Batch) AddFile(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &FileError{Path: path, Err: err}
	}
	name := filepath.Base(path)
	if b.paths == nil {
		b.paths = map[string]string{}
	}
	if other, seen := b.paths[name]; seen && other != path {
		name = path
	} else {
		b.paths[name] = path
	}
	b.AddBytes(name, data)
	return nil
}

// AddBytes reads one file held in memory. The content decides where it can (an .xlsx is a
// zip archive; JSON starts with [ or {), so a file whose name says otherwise, such as a CSV
// posted as 六月.xlsx, is still read; old binary formats (.xls, .et) are refused with advice.
func (b *Batch) AddBytes(name string, data []byte) {
	ext := strings.ToLower(filepath.Ext(name))
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	switch {
	case ext == ".xls" || ext == ".et" || ext == ".wps" || ext == ".ods" || bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0")):
		b.fail(name, "", "", ErrMalformed, "不支持旧版 Excel（.xls）、WPS（.et）等格式：请在 Excel 或 WPS 中“另存为” .xlsx（Excel 工作簿）或 .csv 后再上传")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		b.AddXLSX(name, data)
	case ext == ".xlsx" || ext == ".xlsm":
		// named as a workbook but not a zip: text that is a table is read as such, anything
		// else is a broken workbook
		switch first, _, _ := bytes.Cut(t, []byte("\n")); {
		case len(t) > 0 && (t[0] == '[' || t[0] == '{'):
			b.addJSON(name, data)
		case len(t) > 0 && !bytes.ContainsRune(t, 0) && bytes.ContainsAny(first, ",\t;"):
			b.addCSV(name, data)
		default:
			b.AddXLSX(name, data)
		}
	case ext == ".json" || (ext != ".csv" && ext != ".txt" && ext != ".tsv" && len(t) > 0 && (t[0] == '[' || t[0] == '{')):
		b.addJSON(name, data)
	default:
		b.addCSV(name, data)
	}
}

// FileError is a file of a batch that could not be read. Its message is Chinese and says
// what to do; the system's own (English) text stays in Err.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	var pe *fs.PathError
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("文件 %s 不存在：请检查文件名和所在的文件夹", e.Path)
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("没有读取文件 %s 的权限：请检查文件的权限，或换一个用户运行", e.Path)
	case errors.As(e.Err, &pe) && errors.Is(pe.Err, syscall.EISDIR):
		return fmt.Sprintf("%s 是文件夹，不是文件：请给出其中的报表文件，如 %s", e.Path, filepath.Join(e.Path, "*.csv"))
	}
	return fmt.Sprintf("读取文件 %s 失败：%s", e.Path, systemText(e.Err))
}

// Unwrap gives the system's error.
func (e *FileError) Unwrap() error { return e.Err }

// systemText is the part of an operating system error that a PathError does not already
// say (the operation and the path), for the rare failures with no Chinese message.
func systemText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
