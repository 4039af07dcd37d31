//! End to end: the demo (`examples::demo`) in headless Chromium, driven through chromedriver.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; `CHROMIUM` and `CHROMEDRIVER` override the paths).
//! `scripts/test.sh` installs them; without them this test fails, it never skips.
//!
//! The demo is served in-process on a free loopback port, chromedriver runs on another, and
//! Chromium gets a fresh profile. The first test signs in, reloads, fills the cart, checks
//! the cookie as the browser stored it, signs out, and checks that the cookie saved before
//! signing out opens nothing any more. The second signs the same user in from two separate
//! profiles ("devices"), takes the README's screenshot of the list of sessions
//! (`docs/demo.png`), signs one device out from the other and checks it is signed out on its
//! next page load, then does the same with "sign out everywhere else".
#![forbid(unsafe_code)]

use std::{
    env,
    fs::File,
    net::{SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use actix_web::{App, HttpServer, cookie::SameSite, dev::ServerHandle};
use examples::demo;
use fantoccini::{Client, ClientBuilder, Locator, cookies::Cookie, wd::WebDriverCompatibleCommand};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use session::storage::MemorySessionStore;

/// The whole scenario must finish within this, or the test fails.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one page state (an element, a text) may take to appear.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// The browser window, and so the screenshot, in CSS pixels.
const WINDOW: &str = "--window-size=760,1180";
const USER: &str = "Ada Lovelace";

/// A program of the browser set-up, or a failure that says how to get it.
fn program(var: &str, name: &str) -> PathBuf {
    let candidate = env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| {
            env::var_os("PATH").and_then(|paths| {
                env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|path| path.is_file())
            })
        })
        .unwrap_or_else(|| Path::new("/usr/bin").join(name));
    let looked_at = match env::var_os(var) {
        Some(path) => format!("${var} = {}", PathBuf::from(path).display()),
        None => "PATH and /usr/bin".to_owned(),
    };
    assert!(
        candidate.is_file(),
        "{name} not found (looked at {looked_at}): the browser test needs Debian's `chromium` \
         and `chromium-driver` packages. Run `scripts/test.sh`, which installs them (as root: \
         `apt-get install -y chromium chromium-driver`)."
    );
    candidate
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// chromedriver, in its own process group with everything it starts (Chromium), all killed
/// on drop, even when the test panics.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Chromedriver {
    fn start(path: &Path, dir: &Path) -> Self {
        let mut last_log = String::new();
        for attempt in 0..3 {
            let port = free_port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let log_file = File::create(&log).expect("chromedriver log file");
            let child = Command::new(path)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log file handle"))
                .stderr(log_file)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("cannot start {}: {err}", path.display()));
            let mut driver = Self { child, port, log };
            let deadline = Instant::now() + STEP_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = driver.child.try_wait() {
                    break; // exited: the port was taken meanwhile, or worse; try again
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return driver;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            last_log = std::fs::read_to_string(&driver.log).unwrap_or_default();
        }
        panic!("chromedriver did not start listening; its last log:\n{last_log}");
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The negative pid names the process group: chromedriver and the browser it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Chrome DevTools Protocol command, through chromedriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp {
    method: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Waits until the element matching `css` has exactly `expected` as its text.
async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut seen = String::from("<no such element>");
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if text == expected {
                return;
            }
            seen = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("`{css}` should read {expected:?}, but reads {seen:?}");
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("no `{css}` to click: {err}"))
        .click()
        .await
        .unwrap_or_else(|err| panic!("clicking `{css}`: {err}"));
}

/// The session cookie as the browser stored it, read with CDP `Network.getAllCookies`.
async fn stored_cookie(client: &Client, name: &str) -> Option<Value> {
    let result = client
        .issue_cmd(Cdp {
            method: "Network.getAllCookies",
            params: json!({}),
        })
        .await
        .expect("CDP Network.getAllCookies");
    result["cookies"]
        .as_array()
        .expect("a cookies array")
        .iter()
        .find(|cookie| cookie["name"] == name)
        .cloned()
}

/// A plain HTTP client (no cookie jar, no redirects) to replay cookies by hand.
fn http_client() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .timeout(STEP_TIMEOUT)
        .finish()
}

async fn get_page(base: &str, cookie: &str) -> String {
    let mut response = http_client()
        .get(format!("{base}/"))
        .insert_header(("cookie", format!("id={cookie}")))
        .send()
        .await
        .expect("GET /");
    assert!(
        response.status().is_success(),
        "GET / answered {}",
        response.status()
    );
    let body = response.body().await.expect("the page");
    String::from_utf8(body.to_vec()).expect("UTF-8 page")
}

/// Serves the demo's routes on a free loopback port, on the in-memory store.
fn serve_demo() -> (SocketAddr, ServerHandle) {
    // The demo's own configuration layers (defaults < cookie.secure = false < session.toml <
    // SESSION_*), built over a fresh in-memory store whatever `store` says.
    let config = demo::config().expect("the demo's configuration");
    assert!(
        !config.cookie.secure,
        "the demo serves plain HTTP: its cookie is not Secure"
    );
    let middleware = config
        .build_with(MemorySessionStore::new())
        .expect("the demo's middleware");
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .configure(demo::configure)
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind the demo");
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    (address, handle)
}

async fn connect(chromium: &Path, driver: &Chromedriver, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-quic",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                WINDOW,
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|err| {
            let log = std::fs::read_to_string(&driver.log).unwrap_or_default();
            panic!("cannot start Chromium through chromedriver: {err}\nchromedriver log:\n{log}")
        });
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(STEP_TIMEOUT),
            Some(STEP_TIMEOUT),
            None,
        ))
        .await
        .expect("set the WebDriver timeouts");
    client
}

#[actix_rt::test]
async fn demo_in_headless_chromium() {
    let started = Instant::now();
    let chromium = program("CHROMIUM", "chromium");
    let chromedriver = program("CHROMEDRIVER", "chromedriver");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let profile = scratch.path().join("profile");
    let driver = Chromedriver::start(&chromedriver, scratch.path());
    let (address, server) = serve_demo();
    let base = format!("http://{address}");

    let client = connect(&chromium, &driver, &profile).await;
    let outcome = tokio::time::timeout(TEST_TIMEOUT, scenario(&client, &base)).await;
    // Quit the browser before judging; the drop of `driver` kills whatever is left.
    let _ = client.close().await;
    server.stop(false).await;
    drop(driver);
    outcome.unwrap_or_else(|_| panic!("the browser scenario took longer than {TEST_TIMEOUT:?}"));
    eprintln!("browser test took {:.1?}", started.elapsed());
}

async fn scenario(client: &Client, base: &str) {
    // Signed out: the sign-in form, and no cookie for a session that holds nothing.
    let name = open_sign_in_form(client, base).await;
    assert!(
        stored_cookie(client, "id").await.is_none(),
        "no cookie before signing in"
    );

    // Sign in; every page view counts.
    submit_name(client, &name).await;
    wait_for_text(client, "#visits", "1").await;
    for visits in ["2", "3"] {
        client.refresh().await.expect("reload");
        wait_for_text(client, "#visits", visits).await;
    }

    // The cart: each add redirects to the page, which counts a view.
    click(client, "#add-tea").await;
    wait_for_text(client, "#visits", "4").await;
    click(client, "#add-coffee").await;
    wait_for_text(client, "#visits", "5").await;
    click(client, "#add-tea").await;
    wait_for_text(client, "#visits", "6").await;
    wait_for_text(client, "#cart tr[data-item=\"tea\"] .qty", "2").await;
    wait_for_text(client, "#cart tr[data-item=\"coffee\"] .qty", "1").await;
    wait_for_text(client, "#total", "$21.90").await;

    // The cookie as the browser stored it.
    let cookie = stored_cookie(client, "id")
        .await
        .expect("the session cookie, once signed in");
    assert_eq!(cookie["httpOnly"], true, "HttpOnly: {cookie}");
    assert_eq!(cookie["sameSite"], "Lax", "SameSite=Lax: {cookie}");
    assert_eq!(cookie["path"], "/", "Path=/: {cookie}");
    // Host-only: stored under the exact host. A Domain attribute would give ".host".
    assert_eq!(
        cookie["domain"], "127.0.0.1",
        "no Domain attribute: {cookie}"
    );
    assert_eq!(
        cookie["session"], true,
        "a browser-session cookie: {cookie}"
    );
    assert_eq!(
        cookie["secure"], false,
        "the demo runs on plain HTTP: {cookie}"
    );
    // WebDriver's own view agrees.
    let webdriver_cookie: Cookie<'static> = client
        .get_named_cookie("id")
        .await
        .expect("WebDriver sees the cookie");
    assert_eq!(webdriver_cookie.http_only(), Some(true));
    assert!(
        webdriver_cookie
            .same_site()
            .is_some_and(|same_site| same_site.is_lax())
    );
    assert_eq!(webdriver_cookie.path(), Some("/"));
    let old_value = cookie["value"].as_str().expect("a cookie value").to_owned();
    assert_eq!(webdriver_cookie.value(), old_value);

    // Control: the saved value opens the session from another client, for now.
    let page = get_page(base, &old_value).await;
    assert!(
        page.contains(&format!("id=\"user\">{USER}<")),
        "the saved cookie works before sign-out"
    );

    // Sign out: the state is purged and the browser drops its cookie.
    click(client, "#logout").await;
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Id("name"))
        .await
        .expect("the sign-in form after signing out");
    assert!(
        stored_cookie(client, "id").await.is_none(),
        "the cookie is removed on sign-out"
    );

    // The old value opens nothing: sent by a plain HTTP client,
    let page = get_page(base, &old_value).await;
    assert!(
        page.contains("id=\"name\""),
        "the old cookie gives the sign-in form"
    );
    assert!(
        !page.contains(USER),
        "the old cookie must not show the user"
    );
    // and put back into the browser as it was (CDP, since WebDriver cannot add HttpOnly
    // host-only cookies everywhere).
    let restored = client
        .issue_cmd(Cdp {
            method: "Network.setCookie",
            params: json!({
                "name": "id",
                "value": old_value,
                "url": format!("{base}/"),
                "path": "/",
                "httpOnly": true,
                "sameSite": "Lax",
            }),
        })
        .await
        .expect("CDP Network.setCookie");
    assert_eq!(restored["success"], json!(true), "{restored}");
    assert!(
        stored_cookie(client, "id").await.is_some(),
        "the old cookie is back"
    );
    client.refresh().await.expect("reload");
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Id("name"))
        .await
        .expect("the sign-in form with the old cookie");
    assert!(
        client.find(Locator::Id("user")).await.is_err(),
        "the old cookie must not sign the user in again"
    );
}

/// What the browser does not show: the raw Set-Cookie header, and escaping of user input.
#[actix_rt::test]
async fn set_cookie_attributes_and_escaping() {
    let (address, server) = serve_demo();
    let base = format!("http://{address}");

    let name = "<script>alert('x')</script> & co";
    let response = http_client()
        .post(format!("{base}/login"))
        .send_form(&[("name", name)])
        .await
        .expect("POST /login");
    assert_eq!(response.status(), 303);
    let header = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .expect("an ASCII header")
        .to_owned();
    let cookie = actix_web::cookie::Cookie::parse(header.clone()).expect("a valid Set-Cookie");
    assert_eq!(cookie.name(), "id", "{header}");
    assert_eq!(cookie.http_only(), Some(true), "{header}");
    assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{header}");
    assert_eq!(cookie.path(), Some("/"), "{header}");
    assert_eq!(cookie.domain(), None, "no Domain attribute: {header}");
    assert_eq!(cookie.max_age(), None, "a browser-session cookie: {header}");

    let page = get_page(&base, cookie.value()).await;
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"),
        "the name is escaped"
    );
    assert!(!page.contains("<script>"), "no markup from the user");

    // A product that is not in the catalogue is refused, and a missing name too.
    let response = http_client()
        .post(format!("{base}/cart"))
        .insert_header(("cookie", format!("id={}", cookie.value())))
        .send_form(&[("item", "<nope>")])
        .await
        .expect("POST /cart");
    assert_eq!(response.status(), 400);
    let response = http_client()
        .post(format!("{base}/login"))
        .send_form(&[("name", "   ")])
        .await
        .expect("POST /login");
    assert_eq!(response.status(), 400);
    server.stop(false).await;
}

/// The same user on two devices (two browser profiles, so two cookie jars): each lists both
/// sessions; one signs the other out, which is signed out on its next page load.
#[actix_rt::test]
async fn sign_out_another_device() {
    let chromium = program("CHROMIUM", "chromium");
    let chromedriver = program("CHROMEDRIVER", "chromedriver");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&chromedriver, scratch.path());
    let (address, server) = serve_demo();
    let base = format!("http://{address}");

    let laptop = connect(&chromium, &driver, &scratch.path().join("laptop")).await;
    let phone = connect(&chromium, &driver, &scratch.path().join("phone")).await;
    let outcome = tokio::time::timeout(TEST_TIMEOUT, two_devices(&laptop, &phone, &base)).await;
    let _ = laptop.close().await;
    let _ = phone.close().await;
    server.stop(false).await;
    drop(driver);
    outcome.unwrap_or_else(|_| panic!("the two-device scenario took longer than {TEST_TIMEOUT:?}"));
}

/// Opens the demo signed out and returns its name field.
async fn open_sign_in_form(client: &Client, base: &str) -> fantoccini::elements::Element {
    client
        .goto(&format!("{base}/"))
        .await
        .expect("open the demo");
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Id("name"))
        .await
        .expect("the sign-in form")
}

/// Signs in as [`USER`] through the form's name field, and waits for the signed-in page.
async fn submit_name(client: &Client, name: &fantoccini::elements::Element) {
    name.send_keys(USER).await.expect("type the name");
    click(client, "#login").await;
    wait_for_text(client, "#user", USER).await;
}

async fn sign_in(client: &Client, base: &str) {
    let name = open_sign_in_form(client, base).await;
    submit_name(client, &name).await;
}

/// How many sessions the page lists, once it lists `expected`.
async fn wait_for_sessions(client: &Client, expected: usize) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut seen = 0;
    while Instant::now() < deadline {
        client.refresh().await.expect("reload");
        if let Ok(rows) = client.find_all(Locator::Css("#sessions li")).await {
            seen = rows.len();
            if seen == expected {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page should list {expected} sessions, but lists {seen}");
}

async fn signed_out_on_next_load(client: &Client) {
    client.refresh().await.expect("reload");
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Id("name"))
        .await
        .expect("the sign-in form on the signed-out device");
    assert!(
        client.find(Locator::Id("user")).await.is_err(),
        "a signed-out device must not show the user"
    );
}

async fn two_devices(laptop: &Client, phone: &Client, base: &str) {
    sign_in(laptop, base).await;
    click(laptop, "#add-tea").await;
    sign_in(phone, base).await;

    // Both devices list both sessions, each marking itself as this device.
    wait_for_sessions(laptop, 2).await;
    wait_for_sessions(phone, 2).await;
    for client in [laptop, phone] {
        let current = client
            .find_all(Locator::Css("#sessions li[data-current=\"true\"]"))
            .await
            .expect("the current session");
        assert_eq!(current.len(), 1, "exactly one session is this device");
        wait_for_text(client, "#this-device", "This device").await;
    }
    let listed = laptop
        .find(Locator::Css("#sessions li[data-current=\"false\"] strong"))
        .await
        .expect("the other device")
        .text()
        .await
        .expect("its name");
    assert_eq!(
        listed, "Headless Chrome on Linux",
        "the device is named from its browser"
    );

    // The README's screenshot: signed in, the cart, and the two devices.
    let png = laptop.screenshot().await.expect("a screenshot");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/demo.png");
    std::fs::create_dir_all(path.parent().expect("docs/")).expect("create docs/");
    std::fs::write(&path, &png).expect("write docs/demo.png");

    // The laptop signs the phone out; the phone is signed out on its next page load, and the
    // laptop lists itself only.
    click(laptop, "#sessions li[data-current=\"false\"] button.revoke").await;
    wait_for_text(laptop, "#user", USER).await;
    signed_out_on_next_load(phone).await;
    wait_for_sessions(laptop, 1).await;

    // Sign in on the phone again, then sign out everywhere else from the phone.
    sign_in(phone, base).await;
    wait_for_sessions(phone, 2).await;
    click(phone, "#revoke-others").await;
    wait_for_text(phone, "#user", USER).await;
    signed_out_on_next_load(laptop).await;
    wait_for_sessions(phone, 1).await;
    assert!(
        phone.find(Locator::Id("revoke-others")).await.is_err(),
        "nothing else to sign out"
    );
}
