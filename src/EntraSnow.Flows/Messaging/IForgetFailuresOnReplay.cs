namespace EntraSnow.Flows.Messaging;

/// <summary>
/// A flow that remembers a failure for a while (a reference ServiceNow lacked, so 10,000 users of one missing office
/// do not ask 10,000 times) forgets it when dead letters are replayed: an operator replays after fixing the cause, and
/// the replayed work must meet the fix, not the memory of the failure. Hosts call it after a replay.
/// </summary>
public interface IForgetFailuresOnReplay
{
    void ForgetFailures();
}
