// Package sigv4 authenticates guardpost's API the way AWS does, so that the
// real AWS SDKs and CLI work unchanged.
//
// Access keys live in an AWS shared-credentials file (LoadCredentials,
// GenerateCredentials) that can also be handed to the AWS CLI through
// AWS_SHARED_CREDENTIALS_FILE; each profile adds aws_account_id, which the
// CLI ignores and guardpost uses as the caller's account, and may declare
// aws_session_token, which requests with that key must then carry.
//
// A Verifier checks a request's AWS Signature Version 4, in the
// Authorization header or in the query string of a presigned URL. The
// signature math is the AWS SDK's own signer, applied to a copy of the
// request reduced to exactly what the client signed; errors carry AWS's
// error types and messages (AuthError).
//
// Temporary credentials (issued by the sts package) are stateless: the
// session token is the Session itself, sealed by SessionKeys with a key
// derived from the server's stored key, so every node sharing that key
// accepts them until they expire.
package sigv4
