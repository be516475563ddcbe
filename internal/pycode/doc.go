// Package pycode reads the marshalled code object of a Python function (a
// Keras Lambda layer's "function" field) and decodes it, without executing
// anything, into an arithmetic expression of its one argument.
//
// Keras stores a Lambda's function as marshal.dumps(func.__code__): base64
// (Keras 2.1 and later, tf_keras, Keras 3) or the bytes decoded as
// raw_unicode_escape (Keras 1.x and 2.0), with no record of the Python
// version that wrote it. The marshal layout of a code object tells three
// eras apart (3.5–3.7, 3.8–3.10, 3.11 and later), and the bytecode is
// decoded under every instruction set of the era (3.5's one- and three-byte
// instructions, 3.6–3.10's wordcode, 3.11's and 3.12's BINARY_OP with its
// inline cache). A function is decoded when it is accepted under at least
// one of them and every accepting one gives the same expression.
//
// The subset decoded is what a preprocessing lambda such as
// lambda x: x / 255.0 - 0.5 compiles to: the argument (LOAD_FAST 0),
// integer and float constants (LOAD_CONST), the binary operators + - * /
// and ** (BINARY_ADD ... BINARY_POWER, or BINARY_OP), unary - and +, and
// RETURN_VALUE, with RESUME, NOP, CACHE and EXTENDED_ARG. Anything else (a
// global, an attribute, a call, a second argument, defaults, a closure, a
// constant result) is a *RefusedError carrying the disassembly.
package pycode
