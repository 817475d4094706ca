using Microsoft.AspNetCore.Http;

namespace EntraSnow.Http;

/// <summary>RFC 9457 problem+json answers: every refusal says what was wrong, in the same shape on both hosts.</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "The request is not valid.", detail);

    public static IResult TooLarge(long limit) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large.", $"The body may be at most {limit} bytes.");

    public static IResult Unauthorized(string detail) => Problem(StatusCodes.Status401Unauthorized, "The request is not authenticated.", detail);

    public static IResult QueueUnavailable() => Problem(StatusCodes.Status503ServiceUnavailable, "The notifications could not be queued.",
        "Nothing was accepted; retry later.");

    public static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}
