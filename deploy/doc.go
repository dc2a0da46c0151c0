// Package deploy holds no code: its files are how infersweep runs outside
// one machine (Dockerfile, compose, Kubernetes, Slurm). Its tests check
// them, since no Docker engine or cluster is at hand in CI.
package deploy
