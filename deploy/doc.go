// Package deploy holds no code: it is the directory of the deployment files
// (the job file nightly.toml, the systemd service and timer, the Kubernetes
// CronJob) and of the tests that check them against each other, against the
// Dockerfile and the Makefile, and the binaries `make dist` builds.
package deploy
