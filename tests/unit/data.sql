-- 'test' has a cheap hash (password 'test'): most tests log in as it. 'other' keeps the
-- tutorial's pbkdf2:sha256:50000 hash (password 'other'), which must still verify.
INSERT INTO user (username, password)
VALUES
  ('test', 'pbkdf2:sha256:1$4w0rir7s2JgvetyA$4230e77fc4856398bb643fb1f3c2d3c06f10b089c61574a0ad5707a0f9909877'),
  ('other', 'pbkdf2:sha256:50000$kJPKsz6N$d2d4784f1b030a9761f5ccaeeaca413f27f2ecb76d6168407af962ddce849f79');

INSERT INTO post (title, body, author_id, created)
VALUES
  ('test title', 'test' || x'0a' || 'body', 1, '2018-01-01 00:00:00');
