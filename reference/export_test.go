package reference

// SetMinParallelWork sets the least work a job is split across goroutines
// for (0: every job), so that tests split even small graphs' jobs, and
// returns a function that restores the bound.
func SetMinParallelWork(n int) (restore func()) {
	old := minParallelWork
	minParallelWork = n
	return func() { minParallelWork = old }
}
