//! Headless Chromium for the dashboard tests, and helpers to read the DOM it dumps.
//! Shared by `gateway/tests/dashboard_chromium.rs` (a gateway fed by the test) and the
//! root crate's `tests/dashboard_demo.rs` (the whole `tickd demo`), which includes this
//! file by path; so it uses only std and tempfile.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Chromium's whole run, page load to DOM dump; killed after this.
const BROWSER_LIMIT: Duration = Duration::from_secs(40);

/// Headless Chromium loading one URL, with its output drained on threads so it never
/// blocks on a full pipe. Killed on drop, so a failing test leaves no browser behind.
pub struct Browser {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    deadline: Instant,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `--dump-dom` after `budget_ms` of virtual time in a `width`×`height` window; a
    /// screenshot too when `shot` is set.
    pub fn dump_dom(
        url: &str,
        budget_ms: u32,
        (width, height): (u32, u32),
        shot: Option<&Path>,
    ) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run `apt-get install chromium fonts-dejavu-core` \
             (scripts/setup.sh --test installs it)"
        );
        let profile = tempfile::tempdir().unwrap();
        let mut command = Command::new(CHROMIUM);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--run-all-compositor-stages-before-draw",
                "--dump-dom",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--virtual-time-budget={budget_ms}"));
        if let Some(shot) = shot {
            command.arg(format!("--screenshot={}", shot.display()));
        }
        let mut child = command
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
        Browser {
            stdout: Some(drain(child.stdout.take())),
            stderr: Some(drain(child.stderr.take())),
            child,
            deadline: Instant::now() + BROWSER_LIMIT,
            _profile: profile,
        }
    }

    /// The DOM once Chromium has exited successfully, `None` while it runs; panics
    /// (after killing it) when it fails or outlives [`BROWSER_LIMIT`].
    pub fn finished(&mut self) -> Option<String> {
        let exit = self.child.try_wait().unwrap();
        if exit.is_none() && Instant::now() < self.deadline {
            return None;
        }
        self.kill();
        let join =
            |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        let (dom, log) = (join(self.stdout.take()), join(self.stderr.take()));
        match exit {
            Some(exit) if exit.success() => Some(dom),
            Some(exit) => panic!("Chromium failed ({exit}); stderr:\n{log}"),
            None => {
                panic!("Chromium did not finish within {BROWSER_LIMIT:?}; killed. stderr:\n{log}")
            }
        }
    }

    /// Waits (polling, bounded by [`BROWSER_LIMIT`]) for the DOM.
    pub fn wait(&mut self) -> String {
        loop {
            if let Some(dom) = self.finished() {
                return dom;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Drains a pipe on its own thread so Chromium never blocks writing to it.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// The text of the `<td>` cells whose class list has `class`, in document order.
pub fn cells<'a>(html: &'a str, class: &str) -> Vec<&'a str> {
    html.split("<td class=\"")
        .filter_map(|cell| {
            let (classes, rest) = cell.split_once('"')?;
            let (_, rest) = rest.split_once('>')?;
            let (text, _) = rest.split_once("</td>")?;
            classes.split(' ').any(|c| c == class).then_some(text)
        })
        .collect()
}

/// The `<table ...>` element whose opening tag contains `marker`.
pub fn section<'a>(dom: &'a str, marker: &str) -> &'a str {
    section_of(dom, marker, "</table>")
}

/// From `marker` to the next `end` (or the end of the DOM).
pub fn section_of<'a>(dom: &'a str, marker: &str, end: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the DOM"));
    let rest = &dom[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The rows (`<tr>` … `</tr>`) of an HTML fragment, tags stripped, cells joined by `|`.
pub fn rows(html: &str) -> Vec<String> {
    html.split("<tr")
        .skip(1)
        .map(|tr| {
            let tr = tr.split("</tr>").next().unwrap_or("");
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = td.split_once('>').map_or("", |(_, r)| r);
                    strip_tags(inner.split("</td>").next().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Text without tags (and with `&amp;` decoded), for assertions on visible text.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
}

/// The numeric values of attribute `name` on the elements whose tag starts with
/// `tag_start` (e.g. `<rect class="body"`), in document order.
pub fn attr_values(html: &str, tag_start: &str, name: &str) -> Vec<f64> {
    html.split(tag_start)
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            tag[at..].split('"').next()?.parse().ok()
        })
        .collect()
}

/// The page marks its scrolled tables (tape, quotes, events) `data-fits="yes"` when no
/// time, price or size cell is cut and no table is wider than its box.
pub fn assert_no_clipped_column(dom: &str) {
    for wrap in ["tape-wrap", "bbo-wrap", "events-wrap"] {
        let tag = section_of(dom, &format!("id=\"{wrap}\""), ">");
        assert!(
            tag.contains("data-fits=\"yes\""),
            "{wrap} clips a column: {tag}"
        );
    }
}
