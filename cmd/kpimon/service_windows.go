//go:build windows

package main

import (
	"context"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows/svc"
)

// asWindowsService runs kpimon under the Windows service manager when it was started as a
// service (sc.exe create kpimon binPath= "C:\kpimon\kpimon.exe serve …"): the command line
// registered with the service is run until the manager asks it to stop, and what kpimon
// would print goes to kpimon.log beside the executable (a service has no console). It
// reports false when kpimon was started from a console.
func asWindowsService(args []string) (bool, error) {
	is, err := svc.IsWindowsService()
	if err != nil || !is {
		return false, err
	}
	exe, err := os.Executable()
	if err != nil {
		return true, err
	}
	log, err := os.OpenFile(filepath.Join(filepath.Dir(exe), "kpimon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return true, err
	}
	defer log.Close()
	return true, svc.Run("kpimon", &service{args: args, out: log})
}

type service struct {
	args []string
	out  *os.File
}

// Execute runs kpimon's command line and stops it when the service manager says so.
func (s *service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	status <- svc.Status{State: svc.StartPending}
	done := make(chan error, 1)
	go func() { done <- run(ctx, s.args, s.out, s.out) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			if err != nil {
				s.out.WriteString("kpimon: " + err.Error() + "\n")
				return false, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				return false, 0
			}
		}
	}
}
