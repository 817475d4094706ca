using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Messaging;

/// <summary>One of the two ways to reach Service Bus must be set, and a namespace must be a host name, not a URL.</summary>
internal sealed class ServiceBusOptionsValidator : IValidateOptions<ServiceBusOptions>
{
    public ValidateOptionsResult Validate(string? name, ServiceBusOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace))
        {
            return ValidateOptionsResult.Fail(
                "ServiceBus:FullyQualifiedNamespace is required (e.g. mynamespace.servicebus.windows.net), or ServiceBus:ConnectionString for an emulator.");
        }

        return Uri.CheckHostName(options.FullyQualifiedNamespace) == UriHostNameType.Dns
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"ServiceBus:FullyQualifiedNamespace must be a host name such as mynamespace.servicebus.windows.net, not '{options.FullyQualifiedNamespace}'.");
    }
}
