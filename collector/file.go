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
)

// AddFile reads one file into the batch, choosing the format by its extension (.csv, .json,
// .xlsx; .txt and .tsv are read as CSV). name is how errors name the file.
func (b *Batch) AddFile(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("文件 %s 不存在: %w", path, err)
	case err != nil:
		return fmt.Errorf("读取文件 %s 失败: %w", path, err)
	}
	b.AddBytes(filepath.Base(path), data)
	return nil
}

// AddBytes reads one file held in memory, choosing the format by the name's extension, or
// by its content when the extension says nothing.
func (b *Batch) AddBytes(name string, data []byte) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv", ".txt", ".tsv":
		b.AddCSV(name, bytes.NewReader(data))
	case ".json":
		b.AddJSON(name, bytes.NewReader(data))
	case ".xlsx", ".xlsm":
		b.AddXLSX(name, data)
	case ".xls", ".et", ".wps", ".ods":
		b.fail(name, "", "", ErrMalformed, "不支持 %s 格式：请在 Excel 或 WPS 中“另存为” .xlsx（Excel 工作簿）或 .csv 后再上传", ext)
	default:
		t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
		switch {
		case bytes.HasPrefix(data, []byte("PK\x03\x04")):
			b.AddXLSX(name, data)
		case len(t) > 0 && (t[0] == '[' || t[0] == '{'):
			b.AddJSON(name, bytes.NewReader(data))
		default:
			b.AddCSV(name, bytes.NewReader(data))
		}
	}
}
