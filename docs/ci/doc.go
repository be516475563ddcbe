// Package ci holds no code: it is the directory of the CI configurations
// docs/ci.md describes (a GitHub Actions workflow and a GitLab CI pipeline
// for a nightly validation on a fleet of boards), and its tests lint them
// so that what users copy stays valid: the GitHub workflow with actionlint
// (as a Go module), the GitLab pipeline against the keywords GitLab
// documents (see gitlab_test.go for how strict that is).
package ci
