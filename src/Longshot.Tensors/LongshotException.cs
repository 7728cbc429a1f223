namespace Longshot.Tensors;

/// <summary>
/// A problem the user can fix: a bad option, file, setting or model folder. Its message is one line that names the
/// option or file and says what is wrong. The command line reports it as is (exit code 2); every other exception
/// type is either the environment failing (I/O) or a bug. Domain errors (bad safetensors, dataset, media) derive
/// from it.
/// </summary>
public class LongshotException(string message, Exception? inner = null) : Exception(message, inner);
