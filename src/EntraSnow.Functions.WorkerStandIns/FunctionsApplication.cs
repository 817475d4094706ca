// Stand-ins, declared to match the public surface of Microsoft.Azure.Functions.Worker 2.x (FunctionsApplication builder).
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Azure.Functions.Worker.Builder;

/// <summary>Stand-in for Microsoft.Azure.Functions.Worker.Builder.FunctionsApplication.</summary>
public static class FunctionsApplication
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => new(Host.CreateApplicationBuilder(args));
}

/// <summary>
/// Stand-in for Microsoft.Azure.Functions.Worker.Builder.FunctionsApplicationBuilder: an IHostApplicationBuilder. Here it
/// builds a plain generic host (no Functions runtime connection), so the app's composition can be built and checked.
/// </summary>
public sealed class FunctionsApplicationBuilder : IHostApplicationBuilder
{
    private readonly HostApplicationBuilder _inner;

    internal FunctionsApplicationBuilder(HostApplicationBuilder inner) => _inner = inner;

    public IDictionary<object, object> Properties => ((IHostApplicationBuilder)_inner).Properties;

    public IConfigurationManager Configuration => _inner.Configuration;

    public IHostEnvironment Environment => _inner.Environment;

    public ILoggingBuilder Logging => _inner.Logging;

    public IMetricsBuilder Metrics => _inner.Metrics;

    public IServiceCollection Services => _inner.Services;

    public void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
        where TContainerBuilder : notnull => _inner.ConfigureContainer(factory, configure);

    public IHost Build() => _inner.Build();
}

/// <summary>Stand-in for the ASP.NET Core integration's builder extension (Extensions.Http.AspNetCore).</summary>
public static class FunctionsApplicationBuilderAspNetCoreExtensions
{
    public static FunctionsApplicationBuilder ConfigureFunctionsWebApplication(this FunctionsApplicationBuilder builder) => builder;
}
