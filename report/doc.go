// Package report renders validation results for people and machines: a text
// table for the terminal, JSON, and (as they are added) Markdown, HTML and
// JUnit XML.
package report
