// Package torch reads PyTorch model files into a graph.Graph with PyTorch's
// own semantics (NCHW activations, OIHW convolution kernels, [out,in] Linear
// weights), so that the reference evaluator computes what PyTorch computes
// and a later layout pass can be checked against it.
//
// Files read:
//   - torch.save archives: the zip format (torch >= 1.6) and the legacy
//     pickle stream (including pre-1.0 files with storage views and
//     embedded class sources), holding either a state_dict or a full pickled
//     nn.Module tree;
//   - torch.export archives (.pt2): the ATen graph (training or core ATen
//     IR) is translated node by node;
//   - TorchScript archives are recognised and refused with a
//     TorchScriptError that explains the alternatives.
//
// Every record of a zip archive is verified against the CRC-32 and size
// its central directory records (internal/zipcheck): the records read,
// whole or in part, as they are read, and the others before the archive is
// trusted. torch writes zeros in each local header and the real CRC-32 in a
// data descriptor and the central directory; no record goes unchecked. A
// corrupted record is an *Error naming the file and the record.
//
// A pickled nn.MultiheadAttention, nn.TransformerEncoderLayer,
// nn.TransformerEncoder or torchvision VisionTransformer root is a
// library module whose forward is known here (module_library.go,
// module_transformer.go); attention of every source becomes plain graph
// ops (attention.go).
//
// A full pickle of a torchvision classifier needs nothing either: the
// forwards of its classes (torchvision.go, torchvision_forward.go) are
// written in Go from torchvision's source, driven by the pickled
// attributes, each read, checked or refused by name; functools.partial
// values are read as data (partialRef).
//
// A state_dict, or a module tree whose root is a custom class, needs the
// architecture from the user: Options.Arch names a YAML file in the format
// documented in ARCH.md. A full pickled nn.Sequential of standard layers
// needs nothing (or an arch file holding only the input shape, when the
// layers do not determine it).
//
// Entry points: Load (any file, to a graph), ReadFile/Read (a torch.save
// file to its tensors and module tree), ReadArch/ParseArch and
// BuildWithArch, BuildModule, LoadExport (.pt2); LoadResult also lists
// the file's tensors the graph does not read. Errors a user can fix are
// *Error, *UnsafeClassError, *TorchScriptError, *UnsupportedError and
// *UnusedWeightsError (IsBadInput reports them; the CLI exits 2); an
// *ArchConflictError comes wrapped in an *Error.
//
// Strict reading: nothing a file states is dropped. Every tensor of a
// state_dict, pickled module tree or .pt2 must be read by the graph (only
// num_batches_tracked is harmless), else *UnusedWeightsError names every
// unused key (Options.AllowUnused accepts them). Every __dict__ attribute of
// a pickled layer is read, known harmless or refused by name
// (module_attrs.go); every argument of a .pt2 node is checked against its
// ATen schema, with ATen's defaults for those the serializer omitted
// (export_schema.go); an arch argument that restates a size is checked
// against the weights; and with a pickled module tree, an arch step whose
// key names a module must be of its class and agree with every argument
// the module states, taking those it leaves out from the module
// (arch_modules.go, *ArchConflictError).
//
// .pt2 archives are read in both layouts: the one torch <= 2.5 writes
// (serialized_exported_program.json with pickled state_dict and constants)
// and the PT2 archive of torch >= 2.6 (<root>/models/<model>.json, raw
// weight and constant payloads described by data/weights and
// data/constants configs; see export_archive.go). Payloads are bounded like
// storages: declared sizes are checked against the records, strided views
// against their storage, and pickled payloads go through the allow-list.
//
// Pickles are read with github.com/nlpodyssey/gopickle and never execute
// anything: every global a pickle names is resolved through an allow-list
// (torch's tensor rebuild functions, storage classes, standard containers,
// and torch.nn layer classes and a user's module classes, which become
// plain data holders: made empty by NEWOBJ and filled by BUILD); any other
// global, and any other use of an allowed one (calling a class, giving
// NEWOBJ arguments, calling an instance), is refused with an
// UnsafeClassError naming it. Pickle protocols 1-5 are read; protocol 0's
// text persistent ids cannot name a storage and are refused saying so.
// Declared storage sizes are checked against the archive before any
// allocation.
package torch

//go:generate sh -c "python3 gen_stdlib.py && gofmt -w gen_stdlib.go"
