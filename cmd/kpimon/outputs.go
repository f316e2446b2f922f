package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Files a command writes (--out, --qr) are checked before any work is done, so that a
// mistyped folder is a usage mistake said in Chinese (status 2) and not, after the work,
// the system's English.

// checkOutFile checks that a file can be written at path: its folder exists and path is
// not a folder.
func checkOutFile(flagName, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageError{msg: fmt.Sprintf("--%s %s 是文件夹：请给出文件名，如 %s", flagName, path, filepath.Join(path, "文件名"))}
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError{msg: fmt.Sprintf("--%s %s：文件夹 %s 不存在，请先创建这个文件夹，或换一个路径", flagName, path, dir)}
	case err == nil && !fi.IsDir():
		return usageError{msg: fmt.Sprintf("--%s %s：%s 是文件，不是文件夹", flagName, path, dir)}
	}
	return nil
}

// checkOutDir checks that path can be a folder to write into: it is one, or nothing is
// there yet (it is created).
func checkOutDir(flagName, path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return usageError{msg: fmt.Sprintf("--%s %s 是文件，不是文件夹：请给出一个文件夹（不存在会新建）", flagName, path)}
	}
	return nil
}

// writeError says why a file could not be written, in Chinese.
func writeError(path string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("没有写入 %s 的权限：请换一个文件夹，或检查文件夹的权限", path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("无法写入 %s：文件夹 %s 不存在", path, filepath.Dir(path))
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("无法写入 %s：磁盘已满", path)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("无法写入 %s：磁盘是只读的", path)
	case errors.As(err, &pe):
		return fmt.Errorf("写入 %s 失败：%s", path, pe.Err.Error())
	}
	return fmt.Errorf("写入 %s 失败：%w", path, err)
}
