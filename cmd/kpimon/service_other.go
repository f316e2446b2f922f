//go:build !windows

package main

// asWindowsService reports false: only Windows has a service manager to run under.
func asWindowsService([]string) (bool, error) { return false, nil }
