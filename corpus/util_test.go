package corpus

import "os"

// readFile reads a file of the corpus.
func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
