// Package sigv4 authenticates guardpost's API the way AWS does, so that the
// real AWS SDKs and CLI work unchanged.
//
// Access keys live in an AWS shared-credentials file (LoadCredentials,
// GenerateCredentials) that can also be handed to the AWS CLI through
// AWS_SHARED_CREDENTIALS_FILE; each profile adds aws_account_id, which the
// CLI ignores and guardpost uses as the caller's account.
//
// A Verifier checks a request's AWS Signature Version 4 (Authorization
// header form). The signature math is the AWS SDK's own signer, applied to a
// copy of the request reduced to exactly what the client signed; errors
// carry AWS's error types and messages (AuthError).
package sigv4
