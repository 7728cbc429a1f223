using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>Tests that change process-wide settings (thread count, GEMM backend) run alone.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public class SerialCollection;
