using System.Runtime.CompilerServices;

// The subscription manager's unit tests live with the Graph connector's tests.
[assembly: InternalsVisibleTo("EntraSnow.Graph.Tests")]
