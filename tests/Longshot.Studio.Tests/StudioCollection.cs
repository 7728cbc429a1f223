using Xunit;

namespace Longshot.Studio.Tests;

/// <summary>Studio tests generate videos on every core: they run one at a time.</summary>
[CollectionDefinition("Studio", DisableParallelization = true)]
public class StudioCollection;
