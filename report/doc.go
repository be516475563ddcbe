// Package report renders validation results for people and machines: a text
// table for the terminal, JSON, Markdown, HTML and JUnit XML of a
// validation, a suite, the history and its regressions, and the summary of
// `validate run` (RunText). Paths say which renderer writes which file of a
// validation, a suite or a regression report; WriteFiles writes them
// atomically.
package report
