// Async, after a "Reset a password" requested item is inserted: EntraSnow checks who may reset whose password, does it,
// and writes the outcome back to this item. Here only the hand-off is noted.
(function executeRule(current, previous) {
    var sent = new x_entrasnow.EntraSnowWebhook().sendPasswordReset(current);
    current.work_notes = sent.ok
        ? 'Sent to EntraSnow (request ' + sent.requestId + '). EntraSnow writes the outcome on this item.'
        : 'Could not send this request to EntraSnow: ' + sent.error + ' Ask an administrator to check the x_entrasnow properties.';
    current.update();
})(current, previous);
