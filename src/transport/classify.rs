//! What an attempt's outcome is: a success, worth another attempt (and why), or final; and
//! whether its request may have taken effect. The rules of what may be sent again are the retry
//! policy's (src/retry.rs); this file only applies them to an outcome.

use std::time::Duration;

use reqwest::StatusCode;

use super::attempt::{Body, Outcome};
use crate::error::Applied;
use crate::retry;

/// What the strategy is told of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Verdict {
    pub class: Class,
    /// Whether this attempt's request may have taken effect.
    pub applied: Applied,
    /// The wait the response asked for, if it did.
    pub asked: Option<Duration>,
    /// The response is a 429: the server refused the client's budget, and may have locked it.
    pub rate_limited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// A response read whole with a 2xx: the call's answer.
    Success,
    /// Sending the request again could succeed, and is safe.
    Retryable(Why),
    /// The call ends with this outcome.
    Final,
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Why {
    /// No response came.
    Connection,
    /// A success's body broke off.
    Body,
    /// The response's status (or its `x-should-retry`) says so.
    Status,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Connection => "connection",
            Why::Body => "body",
            Why::Status => "status",
        }
    }
}

/// Classifies `outcome` for an operation that may (`idempotent`) or may not be sent twice.
pub(super) fn classify(outcome: &Outcome, idempotent: bool) -> Verdict {
    let verdict = |class, applied| Verdict {
        class,
        applied,
        asked: None,
        rate_limited: false,
    };
    let answer = match outcome {
        Outcome::Unsent(_) => return verdict(Class::Final, Applied::No),
        Outcome::Failed(error) => {
            let class = if retry::error_is_retryable(error, idempotent) {
                Class::Retryable(Why::Connection)
            } else {
                Class::Final
            };
            // A connection never made, or a request never built, reached nothing.
            let applied = if error.is_connect() || error.is_builder() {
                Applied::No
            } else {
                Applied::Maybe
            };
            return verdict(class, applied);
        }
        Outcome::Answered(answer) => answer,
    };
    let status = answer.status;
    if let Body::Redirected { followed, .. } = answer.body {
        // Another origin answered what a client of the caller's own followed it to.
        let applied = if followed {
            Applied::Maybe
        } else {
            Applied::No
        };
        return verdict(Class::Final, applied);
    }
    if status.is_success() {
        let class = match answer.body {
            Body::Read(_) => Class::Success,
            // The answer broke off: the request was processed, so only an idempotent one is sent
            // again.
            Body::Broke(_) if idempotent => Class::Retryable(Why::Body),
            _ => Class::Final,
        };
        return verdict(class, Applied::Yes);
    }
    // Whether its body broke off or is too large, an error status decides the retry.
    let class = if retry::response_is_retryable(status, &answer.headers, idempotent) {
        Class::Retryable(Why::Status)
    } else {
        Class::Final
    };
    Verdict {
        class,
        // A refusal did nothing; a 5xx may have done part of the work.
        applied: if status.is_server_error() {
            Applied::Maybe
        } else {
            Applied::No
        },
        asked: answer.asked,
        rate_limited: status == StatusCode::TOO_MANY_REQUESTS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::transport::attempt::Answer;
    use bytes::Bytes;
    use reqwest::header::{HeaderMap, HeaderValue};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A failure reqwest reports, made for real on loopback.
    #[derive(Clone, Copy, Debug)]
    enum Failure {
        /// The connection was refused.
        Refused,
        /// The server read the request and closed the connection without a response.
        Closed,
        /// The server read the request and said nothing until the timeout.
        TimedOut,
        /// reqwest could not build the request.
        Unbuilt,
    }

    async fn fail(how: Failure) -> reqwest::Error {
        let http = reqwest::Client::new();
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = format!("http://{}/", server.local_addr().unwrap());
        let error = match how {
            Failure::Refused => {
                drop(server);
                http.get(&at).send().await.unwrap_err()
            }
            Failure::Unbuilt => http.get("no scheme").build().unwrap_err(),
            Failure::Closed | Failure::TimedOut => {
                let accept = tokio::spawn(async move {
                    let (mut socket, _) = server.accept().await.unwrap();
                    let _ = socket.read(&mut [0; 4096]).await;
                    if let Failure::Closed = how {
                        socket.shutdown().await.unwrap();
                    }
                    socket
                });
                let timeout = std::time::Duration::from_millis(100);
                let error = http.get(&at).timeout(timeout).send().await.unwrap_err();
                drop(accept.await);
                error
            }
        };
        let kind = (error.is_connect(), error.is_timeout(), error.is_builder());
        let expected = match how {
            Failure::Refused => (true, false, false),
            Failure::Closed => (false, false, false),
            Failure::TimedOut => (false, true, false),
            Failure::Unbuilt => (false, false, true),
        };
        assert_eq!(kind, expected, "{how:?}: {error:?}");
        error
    }

    fn answered(status: u16, headers: &[(&'static str, &str)], body: Body) -> Outcome {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        Outcome::Answered(Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            asked: None,
            body,
        })
    }

    fn read() -> Body {
        Body::Read(Bytes::from_static(b"{}"))
    }

    fn redirect(followed: bool) -> Body {
        Body::Redirected {
            location: None,
            followed,
        }
    }

    fn of(class: Class, applied: Applied) -> Verdict {
        Verdict {
            class,
            applied,
            asked: None,
            rate_limited: false,
        }
    }

    #[test]
    fn nothing_sent_is_final_and_did_nothing() {
        for idempotent in [true, false] {
            for kind in [
                ErrorKind::Timeout { source: None },
                ErrorKind::RateLimited { retry_after: None },
            ] {
                let verdict = classify(&Outcome::Unsent(kind), idempotent);
                assert_eq!(verdict, of(Class::Final, Applied::No));
            }
        }
    }

    /// A connection never made is retried and did nothing; one that broke or timed out may have
    /// reached the server, so only an idempotent request is sent again; a request reqwest could
    /// not build is final and did nothing.
    #[tokio::test]
    async fn a_failure_without_a_response_is_retried_as_far_as_it_is_safe() {
        let retry = Class::Retryable(Why::Connection);
        for (how, idempotent, expected) in [
            (Failure::Refused, true, of(retry, Applied::No)),
            (Failure::Refused, false, of(retry, Applied::No)),
            (Failure::Closed, true, of(retry, Applied::Maybe)),
            (Failure::Closed, false, of(Class::Final, Applied::Maybe)),
            (Failure::TimedOut, true, of(retry, Applied::Maybe)),
            (Failure::TimedOut, false, of(Class::Final, Applied::Maybe)),
            (Failure::Unbuilt, true, of(Class::Final, Applied::No)),
            (Failure::Unbuilt, false, of(Class::Final, Applied::No)),
        ] {
            let verdict = classify(&Outcome::Failed(fail(how).await), idempotent);
            assert_eq!(verdict, expected, "{how:?}, idempotent: {idempotent}");
        }
    }

    #[tokio::test]
    async fn a_success_is_the_answer_unless_its_body_did_not_come_whole() {
        let retry = Class::Retryable(Why::Body);
        for status in [200, 201, 204, 299] {
            for idempotent in [true, false] {
                let verdict = classify(&answered(status, &[], read()), idempotent);
                assert_eq!(verdict, of(Class::Success, Applied::Yes));
                let too_large = answered(status, &[], Body::TooLarge { limit: 1 });
                let verdict = classify(&too_large, idempotent);
                assert_eq!(verdict, of(Class::Final, Applied::Yes));
            }
        }
        for idempotent in [true, false] {
            let broke = answered(200, &[], Body::Broke(fail(Failure::Closed).await));
            let class = if idempotent { retry } else { Class::Final };
            assert_eq!(classify(&broke, idempotent), of(class, Applied::Yes));
        }
    }

    #[test]
    fn a_redirect_is_final_and_another_origin_may_have_applied_it() {
        for status in [200, 301, 302, 307, 308, 429, 503] {
            for idempotent in [true, false] {
                let followed = answered(status, &[], redirect(true));
                let expected = of(Class::Final, Applied::Maybe);
                assert_eq!(classify(&followed, idempotent), expected, "{status}");
            }
        }
        for status in [301, 302, 307, 308] {
            let refused = answered(status, &[("retry-after", "1")], redirect(false));
            let expected = of(Class::Final, Applied::No);
            assert_eq!(classify(&refused, true), expected, "{status}");
        }
    }

    /// An error status decides, whatever happened to its body: the retry table of src/retry.rs,
    /// `x-should-retry`, a 5xx may have done part of the work, a 429 is a rate limit that carries
    /// the wait it asked for.
    #[tokio::test]
    async fn an_error_status_decides_by_the_retry_table() {
        let status = Class::Retryable(Why::Status);
        for (code, idempotent, class, applied) in [
            (503, true, status, Applied::Maybe),
            (500, true, status, Applied::Maybe),
            (503, false, Class::Final, Applied::Maybe),
            (408, true, status, Applied::No),
            (409, false, Class::Final, Applied::No),
            (404, true, Class::Final, Applied::No),
            (400, false, Class::Final, Applied::No),
            (429, false, status, Applied::No),
            (429, true, status, Applied::No),
            (100, true, Class::Final, Applied::No),
        ] {
            let bodies = [read(), Body::TooLarge { limit: 1 }];
            for body in bodies {
                let verdict = classify(&answered(code, &[], body), idempotent);
                let expected = Verdict {
                    rate_limited: code == 429,
                    ..of(class, applied)
                };
                assert_eq!(verdict, expected, "{code} {idempotent}");
            }
        }
        let broke = answered(503, &[], Body::Broke(fail(Failure::Closed).await));
        assert_eq!(classify(&broke, true), of(status, Applied::Maybe));
        let says_yes = answered(400, &[("x-should-retry", "true")], read());
        assert_eq!(classify(&says_yes, false), of(status, Applied::No));
        let says_no = answered(503, &[("x-should-retry", "false")], read());
        assert_eq!(classify(&says_no, true), of(Class::Final, Applied::Maybe));
    }

    #[test]
    fn the_wait_a_refusal_asked_for_is_passed_on() {
        let wait = Some(std::time::Duration::from_secs(7));
        for code in [429, 503, 404] {
            let Outcome::Answered(mut answer) = answered(code, &[], read()) else {
                unreachable!()
            };
            answer.asked = wait;
            let verdict = classify(&Outcome::Answered(answer), true);
            assert_eq!(verdict.asked, wait, "{code}");
        }
    }

    #[test]
    fn each_reason_has_its_name_in_the_log() {
        let names = [Why::Connection, Why::Body, Why::Status].map(Why::as_str);
        assert_eq!(names, ["connection", "body", "status"]);
    }
}
