package pgcluster

import "syscall"

// setPdeathsig makes the kernel kill the server if the thread that started it
// dies, so a killed test binary or `billingd dev` leaks no server. Go applies
// it after switching credentials, which would otherwise clear it.
func setPdeathsig(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
