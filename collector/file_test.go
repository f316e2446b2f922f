package collector

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAddFileErrors: a file that cannot be read is said in Chinese with what to do, and no
// English from the system reaches the clerk; the system's error is still there to test.
func TestAddFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		want string
		is   error
	}{
		{"missing", filepath.Join(dir, "六月.csv"), "文件 " + filepath.Join(dir, "六月.csv") + " 不存在：请检查文件名和所在的文件夹", fs.ErrNotExist},
		{"a folder", dir, dir + " 是文件夹，不是文件：请给出其中的报表文件，如 " + filepath.Join(dir, "*.csv"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewBatch(testAssessment(t)).AddFile(context.Background(), tc.path)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FileError", err)
			}
			if err.Error() != tc.want {
				t.Errorf("said %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "no such file") || strings.Contains(err.Error(), "is a directory") {
				t.Errorf("English reaches the clerk: %q", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
		})
	}
	if os.Getuid() != 0 {
		locked := filepath.Join(dir, "locked.csv")
		os.WriteFile(locked, []byte("township,indicator,period,value\n"), 0o000)
		err := NewBatch(testAssessment(t)).AddFile(context.Background(), locked)
		if err == nil || !strings.Contains(err.Error(), "没有读取文件") {
			t.Errorf("an unreadable file: %v", err)
		}
	}
}
