module github.com/edgeval/edgeval

go 1.26.0

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	github.com/mattn/go-pointer v0.0.1 // indirect
	github.com/mattn/go-tflite v1.0.4 // indirect
	github.com/nlpodyssey/gopickle v0.2.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/hdf5 v0.0.0-20210714002203-8c5d23bc6946 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
