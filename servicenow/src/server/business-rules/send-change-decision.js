// Async, once a change EntraSnow opened for a sensitive group (correlation_id entra-group:…) is approved or rejected:
// EntraSnow reads the change back, puts the member back in the Entra ID group or leaves them out, and closes the change.
(function executeRule(current, previous) {
    var sent = new x_entrasnow.EntraSnowWebhook().sendChangeDecision(current);
    current.work_notes = sent.ok
        ? 'Decision sent to EntraSnow (request ' + sent.requestId + '). EntraSnow carries it out in Entra ID and closes this change.'
        : 'Could not send this decision to EntraSnow: ' + sent.error + ' Ask an administrator to check the x_entrasnow properties.';
    current.update();
})(current, previous);
