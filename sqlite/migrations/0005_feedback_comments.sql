-- 0005_feedback_comments: the comments of UpdateFindingsFeedback. The
-- Finding object has no member for them, so they are a column beside the
-- document rather than part of it.
ALTER TABLE findings ADD COLUMN feedback_comments TEXT NOT NULL DEFAULT '';
