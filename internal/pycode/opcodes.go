package pycode

// ISA is a bytecode instruction set: how instructions are laid out and
// what the subset's opcodes are.
type ISA uint8

// The instruction sets decoded.
const (
	ISA35  ISA = iota // Python 3.5: one byte, or three with an argument (opcode >= 90)
	ISA36             // Python 3.6–3.10: two-byte wordcode
	ISA311            // Python 3.11: wordcode, BINARY_OP, RESUME, inline caches
	ISA312            // Python 3.12: as 3.11, with RETURN_CONST and CALL_INTRINSIC_1
)

// String gives the Python versions of the instruction set.
func (s ISA) String() string {
	return [...]string{"Python 3.5", "Python 3.6–3.10", "Python 3.11", "Python 3.12"}[s]
}

// isasOf are the instruction sets a code object layout can hold.
func isasOf(l Layout) []ISA {
	switch l {
	case Layout35:
		return []ISA{ISA35, ISA36}
	case Layout38:
		return []ISA{ISA36}
	}
	return []ISA{ISA311, ISA312}
}

// version names the Python versions of an instruction set under a layout.
func version(l Layout, s ISA) string {
	switch {
	case s == ISA36 && l == Layout35:
		return "Python 3.6–3.7"
	case s == ISA36:
		return "Python 3.8–3.10"
	}
	return s.String()
}

// Opcodes of the decoded subset. 3.5–3.10 number them alike.
const (
	opCache          = 0
	opNop            = 9
	opUnaryPositive  = 10 // up to 3.11
	opUnaryNegative  = 11
	opBinaryPower    = 19 // up to 3.10
	opBinaryMultiply = 20
	opBinaryAdd      = 23
	opBinarySubtract = 24
	opBinaryTrueDiv  = 27
	opReturnValue    = 83
	opHaveArgument   = 90
	opLoadConst      = 100
	opReturnConst    = 121 // 3.12
	opBinaryOp       = 122 // 3.11+
	opLoadFast       = 124
	opExtendedArg    = 144
	opResume         = 151 // 3.11+
	opCallIntrinsic1 = 173 // 3.12

	intrinsicUnaryPositive = 5 // CALL_INTRINSIC_1's argument (3.12)
)

// binaryOps are BINARY_OP's arguments (3.11+) the subset reads, with
// their operators.
var binaryOps = map[int]string{0: "+", 5: "*", 8: "**", 10: "-", 11: "/"}

// nbOps names every BINARY_OP argument, for the disassembly.
var nbOps = []string{"+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>", "-", "/", "^",
	"+=", "&=", "//=", "<<=", "@=", "*=", "%=", "|=", "**=", ">>=", "-=", "/=", "^="}

// classicOps are the operators of 3.5–3.10's binary opcodes the subset
// reads.
var classicOps = map[int]string{opBinaryPower: "**", opBinaryMultiply: "*", opBinaryAdd: "+",
	opBinarySubtract: "-", opBinaryTrueDiv: "/"}

// opNames36 names the opcodes of Python 3.6 (with 3.5's and 3.7–3.10's
// additions where their numbers do not collide), for the disassembly only.
var opNames36 = map[int]string{
	1: "POP_TOP", 2: "ROT_TWO", 3: "ROT_THREE", 4: "DUP_TOP", 5: "DUP_TOP_TWO", 6: "ROT_FOUR", 9: "NOP",
	10: "UNARY_POSITIVE", 11: "UNARY_NEGATIVE", 12: "UNARY_NOT", 15: "UNARY_INVERT",
	16: "BINARY_MATRIX_MULTIPLY", 17: "INPLACE_MATRIX_MULTIPLY", 19: "BINARY_POWER", 20: "BINARY_MULTIPLY",
	22: "BINARY_MODULO", 23: "BINARY_ADD", 24: "BINARY_SUBTRACT", 25: "BINARY_SUBSCR",
	26: "BINARY_FLOOR_DIVIDE", 27: "BINARY_TRUE_DIVIDE", 28: "INPLACE_FLOOR_DIVIDE", 29: "INPLACE_TRUE_DIVIDE",
	50: "GET_AITER", 51: "GET_ANEXT", 52: "BEFORE_ASYNC_WITH", 55: "INPLACE_ADD", 56: "INPLACE_SUBTRACT",
	57: "INPLACE_MULTIPLY", 59: "INPLACE_MODULO", 60: "STORE_SUBSCR", 61: "DELETE_SUBSCR",
	62: "BINARY_LSHIFT", 63: "BINARY_RSHIFT", 64: "BINARY_AND", 65: "BINARY_XOR", 66: "BINARY_OR",
	67: "INPLACE_POWER", 68: "GET_ITER", 69: "GET_YIELD_FROM_ITER", 70: "PRINT_EXPR", 71: "LOAD_BUILD_CLASS",
	72: "YIELD_FROM", 73: "GET_AWAITABLE", 75: "INPLACE_LSHIFT", 76: "INPLACE_RSHIFT", 77: "INPLACE_AND",
	78: "INPLACE_XOR", 79: "INPLACE_OR", 83: "RETURN_VALUE", 84: "IMPORT_STAR", 86: "YIELD_VALUE",
	87: "POP_BLOCK", 89: "POP_EXCEPT", 90: "STORE_NAME", 91: "DELETE_NAME", 92: "UNPACK_SEQUENCE",
	93: "FOR_ITER", 94: "UNPACK_EX", 95: "STORE_ATTR", 96: "DELETE_ATTR", 97: "STORE_GLOBAL",
	98: "DELETE_GLOBAL", 100: "LOAD_CONST", 101: "LOAD_NAME", 102: "BUILD_TUPLE", 103: "BUILD_LIST",
	104: "BUILD_SET", 105: "BUILD_MAP", 106: "LOAD_ATTR", 107: "COMPARE_OP", 108: "IMPORT_NAME",
	109: "IMPORT_FROM", 110: "JUMP_FORWARD", 111: "JUMP_IF_FALSE_OR_POP", 112: "JUMP_IF_TRUE_OR_POP",
	113: "JUMP_ABSOLUTE", 114: "POP_JUMP_IF_FALSE", 115: "POP_JUMP_IF_TRUE", 116: "LOAD_GLOBAL",
	117: "IS_OP", 118: "CONTAINS_OP", 124: "LOAD_FAST", 125: "STORE_FAST", 126: "DELETE_FAST",
	130: "RAISE_VARARGS", 131: "CALL_FUNCTION", 132: "MAKE_FUNCTION", 133: "BUILD_SLICE",
	134: "MAKE_CLOSURE", 135: "LOAD_CLOSURE", 136: "LOAD_DEREF", 137: "STORE_DEREF", 138: "DELETE_DEREF",
	140: "CALL_FUNCTION_VAR", 141: "CALL_FUNCTION_KW", 142: "CALL_FUNCTION_EX", 144: "EXTENDED_ARG",
	145: "LIST_APPEND", 146: "SET_ADD", 147: "MAP_ADD", 148: "LOAD_CLASSDEREF", 155: "FORMAT_VALUE",
	156: "BUILD_CONST_KEY_MAP", 157: "BUILD_STRING", 160: "LOAD_METHOD", 161: "CALL_METHOD",
	162: "LIST_EXTEND", 163: "SET_UPDATE", 164: "DICT_MERGE", 165: "DICT_UPDATE",
}

// opNames311 names the opcodes of Python 3.11 (its opcode module).
var opNames311 = map[int]string{
	0: "CACHE", 1: "POP_TOP", 2: "PUSH_NULL", 9: "NOP", 10: "UNARY_POSITIVE", 11: "UNARY_NEGATIVE",
	12: "UNARY_NOT", 15: "UNARY_INVERT", 25: "BINARY_SUBSCR", 30: "GET_LEN", 31: "MATCH_MAPPING",
	32: "MATCH_SEQUENCE", 33: "MATCH_KEYS", 35: "PUSH_EXC_INFO", 36: "CHECK_EXC_MATCH", 37: "CHECK_EG_MATCH",
	49: "WITH_EXCEPT_START", 50: "GET_AITER", 51: "GET_ANEXT", 52: "BEFORE_ASYNC_WITH", 53: "BEFORE_WITH",
	54: "END_ASYNC_FOR", 60: "STORE_SUBSCR", 61: "DELETE_SUBSCR", 68: "GET_ITER", 69: "GET_YIELD_FROM_ITER",
	70: "PRINT_EXPR", 71: "LOAD_BUILD_CLASS", 74: "LOAD_ASSERTION_ERROR", 75: "RETURN_GENERATOR",
	82: "LIST_TO_TUPLE", 83: "RETURN_VALUE", 84: "IMPORT_STAR", 85: "SETUP_ANNOTATIONS", 86: "YIELD_VALUE",
	87: "ASYNC_GEN_WRAP", 88: "PREP_RERAISE_STAR", 89: "POP_EXCEPT", 90: "STORE_NAME", 91: "DELETE_NAME",
	92: "UNPACK_SEQUENCE", 93: "FOR_ITER", 94: "UNPACK_EX", 95: "STORE_ATTR", 96: "DELETE_ATTR",
	97: "STORE_GLOBAL", 98: "DELETE_GLOBAL", 99: "SWAP", 100: "LOAD_CONST", 101: "LOAD_NAME", 102: "BUILD_TUPLE",
	103: "BUILD_LIST", 104: "BUILD_SET", 105: "BUILD_MAP", 106: "LOAD_ATTR", 107: "COMPARE_OP",
	108: "IMPORT_NAME", 109: "IMPORT_FROM", 110: "JUMP_FORWARD", 111: "JUMP_IF_FALSE_OR_POP",
	112: "JUMP_IF_TRUE_OR_POP", 114: "POP_JUMP_FORWARD_IF_FALSE", 115: "POP_JUMP_FORWARD_IF_TRUE",
	116: "LOAD_GLOBAL", 117: "IS_OP", 118: "CONTAINS_OP", 119: "RERAISE", 120: "COPY", 122: "BINARY_OP",
	123: "SEND", 124: "LOAD_FAST", 125: "STORE_FAST", 126: "DELETE_FAST", 128: "POP_JUMP_FORWARD_IF_NOT_NONE",
	129: "POP_JUMP_FORWARD_IF_NONE", 130: "RAISE_VARARGS", 131: "GET_AWAITABLE", 132: "MAKE_FUNCTION",
	133: "BUILD_SLICE", 134: "JUMP_BACKWARD_NO_INTERRUPT", 135: "MAKE_CELL", 136: "LOAD_CLOSURE",
	137: "LOAD_DEREF", 138: "STORE_DEREF", 139: "DELETE_DEREF", 140: "JUMP_BACKWARD", 142: "CALL_FUNCTION_EX",
	144: "EXTENDED_ARG", 145: "LIST_APPEND", 146: "SET_ADD", 147: "MAP_ADD", 148: "LOAD_CLASSDEREF",
	149: "COPY_FREE_VARS", 151: "RESUME", 152: "MATCH_CLASS", 155: "FORMAT_VALUE", 156: "BUILD_CONST_KEY_MAP",
	157: "BUILD_STRING", 160: "LOAD_METHOD", 162: "LIST_EXTEND", 163: "SET_UPDATE", 164: "DICT_MERGE",
	165: "DICT_UPDATE", 166: "PRECALL", 171: "CALL", 172: "KW_NAMES", 173: "POP_JUMP_BACKWARD_IF_NOT_NONE",
	174: "POP_JUMP_BACKWARD_IF_NONE", 175: "POP_JUMP_BACKWARD_IF_FALSE", 176: "POP_JUMP_BACKWARD_IF_TRUE",
}

// opNames312 are 3.12's names where they differ from 3.11's, for the
// disassembly only.
var opNames312 = map[int]string{
	3: "INTERPRETER_EXIT", 4: "END_FOR", 5: "END_SEND", 10: "<10>", 17: "RESERVED", 26: "BINARY_SLICE",
	27: "STORE_SLICE", 120: "COPY", 121: "RETURN_CONST", 127: "LOAD_FAST_CHECK", 128: "POP_JUMP_IF_NOT_NONE",
	129: "POP_JUMP_IF_NONE", 141: "LOAD_SUPER_ATTR", 143: "LOAD_FAST_AND_CLEAR", 160: "<160>",
	166: "<166>", 171: "CALL", 172: "KW_NAMES", 173: "CALL_INTRINSIC_1", 174: "CALL_INTRINSIC_2",
	175: "LOAD_FROM_DICT_OR_GLOBALS", 176: "LOAD_FROM_DICT_OR_DEREF",
}

// opName names opcode op of an instruction set.
func opName(s ISA, op int) string {
	var n string
	switch s {
	case ISA35, ISA36:
		n = opNames36[op]
	case ISA312:
		if n = opNames312[op]; n == "" {
			n = opNames311[op]
		}
	default:
		n = opNames311[op]
	}
	if n == "" {
		n = "<" + itoa(op) + ">"
	}
	return n
}
