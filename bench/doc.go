// Package bench measures and summarises latency: percentiles over repeated
// runs, warm-up handling, and the first run reported apart from the rest.
package bench
