// Package report renders validation results for people and machines: a text
// table for the terminal, JSON, Markdown, HTML and JUnit XML of a
// validation, a suite, the history and its regressions, and the summary of
// `validate run` (RunText).
package report
