namespace EntraSnow.Flows.Scheduling;

public static class ScheduledJobLookup
{
    /// <summary>Runs the registered job with this name; a host that names a job nobody registered is a wiring bug.</summary>
    public static Task RunAsync(this IEnumerable<IScheduledJob> jobs, string name, CancellationToken cancellationToken) =>
        (jobs.FirstOrDefault(j => j.Name == name) ?? throw new InvalidOperationException($"No scheduled job named '{name}' is registered."))
            .RunAsync(cancellationToken);
}
