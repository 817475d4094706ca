namespace EntraSnow.Flows.Scheduling;

/// <summary>Names of the scheduled jobs, shared by the jobs, the Functions timers and the local host.</summary>
public static class JobNames
{
    public const string SubscriptionUpkeep = "subscription-upkeep";
    public const string FullSync = "full-sync";
    public const string RiskPoll = "risk-poll";
    public const string InactiveSweep = "inactive-sweep";
    public const string Retention = "retention";
}
