package devices

import "fmt"

// RequireFullInt8 checks that a model can run on the Edge TPU delegate.
func RequireFullInt8(model []byte) error { return fmt.Errorf("TODO") }
