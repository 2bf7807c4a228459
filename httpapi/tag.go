package httpapi

import "github.com/guardpost/guardpost/httpapi/wire"

// TagResource and UntagResource return nil: the generated operation table
// gives both the model's 204, and writeResult sends a 204 with no body, as
// the API reference says ("an HTTP 204 response with an empty HTTP body").

func (s *Server) tagResource(req *request) (any, error) {
	in := input[*wire.TagResourceRequest](req)
	return nil, s.service.TagResource(req.ctx, req.scope, deref(in.ResourceArn), in.Tags)
}

func (s *Server) untagResource(req *request) (any, error) {
	in := input[*wire.UntagResourceRequest](req)
	return nil, s.service.UntagResource(req.ctx, req.scope, deref(in.ResourceArn), in.TagKeys)
}

func (s *Server) listTagsForResource(req *request) (any, error) {
	in := input[*wire.ListTagsForResourceRequest](req)
	tags, err := s.service.ListTagsForResource(req.ctx, req.scope, deref(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	// The service returns a non-nil map, so an untagged resource answers
	// {"tags":{}} rather than {}: the member is always present, and SDKs
	// decode it to an empty map either way.
	return &wire.ListTagsForResourceResponse{Tags: tags}, nil
}
