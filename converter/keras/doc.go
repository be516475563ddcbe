// Package keras reads Keras models and maps them to a graph.Graph in Keras
// semantics (NHWC values, Keras weight layouts: Dense IO, Conv HWIO,
// Conv2DTranspose HWOI).
//
// Formats, recognised by content:
//   - Keras 2 full-model .h5 (tf.keras 2.x and standalone Keras 2.1–2.3):
//     root attribute model_config and group model_weights;
//   - Keras 3 .h5 (the same layout written by Keras 3, Keras 3 configs
//     without modules: an operation such as keras.ops.add(x, 3.0) is an
//     entry of class Add like the merge layer, told apart by the
//     "trainable" every Keras 3 layer's config states and no operation's
//     does, see legacyKeras3Op; Keras 3.15 cannot reload such files
//     itself);
//   - weights-only .h5 (save_weights: layer_names at the root) together with
//     the model.to_json() file named by Options.ConfigJSON;
//   - Keras 3 .keras zip archives (config.json and model.weights.h5 with the
//     layers/<name>/vars/<i> layout); every member's CRC-32 and size are
//     verified before the archive is used, a corrupted one is an *Error
//     naming the file and the member.
//
// Keras 1.x configurations (Dense's output_dim, Convolution2D's nb_filter,
// border_mode, subsample, dim_ordering, init, W_regularizer, ...) are read
// through an exact mapping to the Keras 2 class and fields for the classes
// keras1Classes lists, their weights by Keras 1's names (<layer>_W:0,
// <layer>_b:0, param_<i>); any other Keras 1 class or field, dim_ordering
// "th", and a convolution kernel a backend other than TensorFlow may have
// written (Theano flips kernels; the file does not say) are a *Keras1Error
// naming the format and the fields.
//
// A Lambda layer is read when its function, stored as marshalled CPython
// bytecode, is plain arithmetic on its input (internal/pycode decodes it
// without executing anything): it becomes elementwise ops by float32
// constants, and LoadReport.Notes names the function. Any other Lambda is
// unsupported with its disassembly.
//
// The architecture is parsed into a Model (ParseConfig): Sequential or
// Functional, several inputs and outputs, shared layers and nested models,
// with a typed configuration per layer class. Load then reads the weights and
// builds the graph. Every layer that cannot be mapped is collected and
// reported at once in an *UnsupportedError.
//
// A layer's class is resolved together with its module (Family):
// keras.layers.Add is a merge layer, keras.src.ops.numpy.Add (Keras 3's
// x + 3.0) and tf_keras's TFOpLambda tf.__operators__.add are operations
// whose operands (tensors, Python scalars, constant arrays) are read from
// the call (Layer.Calls): Keras 3's {"args", "kwargs"} and the kwargs
// element tf_keras attaches to an inbound reference. Every call argument is
// understood or refused by name; an unknown module or operation is an
// unsupported layer.
//
// A layer's configuration is read strictly (fields.go): each class has a
// table of its config fields, each either read and mapped or inert at
// inference for a stated reason (initializers, regularizers, momentum, a
// dropout rate...). Any other field, and a value the mapping does not
// honour (a mixed_float16 or quantized dtype policy, a LoRA rank, renorm,
// rms_scaling, mask_zero, a data_format other than channels_last), makes
// the layer unsupported with a *FieldError naming the field. Defaults fill
// only absent fields, never a stated value.
//
// The objects around the layers' configurations are read as strictly:
// the serialized model (class_name, module, keras_version, build_config,
// ...), a Sequential's or Functional's config (name, layers, input and
// output layers, build_input_shape, trainable, dtype) and each layer entry
// (class_name, config, module, name, inbound_nodes, build_config, ...).
// Each key is read or inert for a stated reason; any other key, a model
// dtype policy other than float32, inbound nodes in a Sequential and a
// layer object shared between models (shared_object_id) are a *FieldError
// whose Where says which object holds it: a model's make ParseConfig
// fail, a layer entry's make the layer unsupported. An UnsupportedError
// unwraps to each layer's cause (UnsupportedLayer.Err), so errors.As
// finds a refused field's *FieldError from Load's error.
//
// An InputLayer's dtype is read as the graph's float32 only where Keras
// computes the same: float64 when every use of the input is a Keras layer
// that casts it to float32 (checkInputDType, measured per class); float16
// and bfloat16 inputs, which Keras rounds to 16 bits, and float64 inputs
// used by operations are refused by name.
//
// MultiHeadAttention (attention.go) becomes framework-neutral ops —
// Dense, Reshape, Transpose, MatMul, Softmax, and Mul/Sub/Add/Cast for the
// mask in each framework's own semantics — and its variables are read
// from its projections' sublayers ("query/kernel", ...; Keras 3 groups
// query_dense, tf_keras .weights.h5 _query_dense). A merge layer's
// constant operand (a position embedding evaluated once) is read in its
// place.
//
// Every weight of the file must be read by a layer: a weight of a layer the
// configuration does not have, or a variable its layer does not use, fails
// the load with an *UnusedWeightsError listing them all, unless
// Options.AllowUnused is set (LoadWithReport then returns their names). The
// optimizer's state is never read nor listed.
//
// HDF5 files are read in-process by default. With Options.Snapshot they are
// read through an hdf5.Snapshot instead, which the caller may take in a
// child process (hdf5.Child) so that libhdf5 crashing on a corrupt file
// does not take the caller down; the graph is the same either way.
//
// HDF5 reading needs cgo; without it, .h5 files and .keras archives give an
// error wrapping hdf5.ErrNotBuilt.
package keras
