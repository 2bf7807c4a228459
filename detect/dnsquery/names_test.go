package dnsquery

import (
	"math/rand/v2"
	"testing"
)

// popularLabels are registered labels of popular sites, CDNs, SaaS and
// package hosts: what an ordinary workload looks up. None may score as
// generated.
var popularLabels = []string{"google", "youtube", "facebook", "amazon", "wikipedia", "twitter", "instagram", "linkedin", "netflix", "microsoft", "apple", "github", "stackoverflow", "cloudflare", "akamai", "akamaiedge", "akamaihd", "cloudfront", "amazonaws", "googleapis", "gstatic", "googleusercontent", "doubleclick", "googlesyndication", "fbcdn", "twimg", "msftncsi", "windowsupdate", "office365", "outlook", "yahoo", "reddit", "pinterest", "tumblr", "wordpress", "shopify", "salesforce", "dropbox", "atlassian", "bitbucket", "gitlab", "docker", "npmjs", "rubygems", "golang", "ubuntu", "debian", "centos", "fedoraproject", "redhat", "launchpad", "sentry", "datadoghq", "newrelic", "pagerduty", "splunk", "elastic", "mongodb", "postgresql", "jsdelivr", "cdnjs", "fastly", "fastlylb", "edgekey", "edgesuite", "azureedge", "azurewebsites", "trafficmanager", "windows", "digicert", "letsencrypt", "sectigo", "globalsign", "googlevideo", "doubleverify", "criteo", "taboola", "outbrain", "hotjar", "segment", "mixpanel", "amplitude", "optimizely", "intercom", "zendesk", "hubspot", "mailchimp", "sendgrid", "twilio", "stripe", "paypal", "braintreegateway", "squareup", "mastercard", "nytimes", "washingtonpost", "theguardian", "accuweather", "booking", "airbnb", "expedia", "tripadvisor", "spotify", "soundcloud", "twitch", "discord", "telegram", "whatsapp", "snapchat", "tiktok", "bytedance", "taobao", "alibaba", "aliyun", "alicdn", "yandex", "rakuten", "walmart", "bestbuy", "homedepot", "wayfair", "zillow", "craigslist", "glassdoor", "substack", "rottentomatoes", "wikimedia", "mozilla", "chromium", "jetbrains", "visualstudio", "heroku", "netlify", "vercel", "digitalocean", "linode", "hetzner", "rackspace", "godaddy", "namecheap", "squarespace", "blogspot", "typekit", "fontawesome", "bootstrapcdn", "gravatar", "sstatic", "stackexchange", "serverfault", "superuser", "askubuntu", "mathworks", "anaconda", "pytorch", "tensorflow", "huggingface", "openai", "anthropic", "awsstatic", "amazontrust", "primevideo", "xboxlive", "playstation", "nintendo", "steampowered", "steamcommunity", "epicgames", "minecraft", "blizzard", "riotgames", "leagueoflegends", "crashlytics", "firebaseio", "appspot", "herokuapp", "kubernetes", "githubusercontent", "githubassets", "sonatype", "jfrog", "sonarcloud", "circleci", "hashicorp", "vaultproject", "grafana", "prometheus", "onelogin", "duosecurity", "crowdstrike", "sentinelone", "paloaltonetworks", "fortinet", "opendns", "nextdns", "elasticbeanstalk", "cloudflareinsights", "googletagmanager", "googleadservices", "adsrvr", "rubiconproject", "pubmatic", "casalemedia", "demdex", "omtrdc", "everesttech", "bidswitch", "smartadserver", "quantserve", "scorecardresearch", "chartbeat", "nr-data", "bugsnag", "rollbar", "logrocket", "fullstory", "mktoresp", "marketo", "pardot", "eloqua", "bizible", "clearbit", "zoominfo", "qualtrics", "surveymonkey", "typeform", "calendly", "docusign", "adobesign", "adobelogin", "adobedtm", "behance", "airtable", "smartsheet", "servicenow", "workday", "successfactors", "oraclecloud", "ibmcloud", "rackcdn", "cachefly", "stackpathcdn", "bunnycdn", "limelight", "edgecastcdn", "sharepoint", "onedrive", "onenote", "msftauth", "microsoftonline", "windowsazure", "powershellgallery", "chocolatey", "homebrew", "sourceforge", "savannah", "archlinux", "alpinelinux", "opensuse", "rockylinux", "almalinux", "ntppool", "cloudsmith", "packagecloud", "pythonhosted", "rust-lang", "metacpan", "mvnrepository", "jitpack", "terraform", "registry", "dockerhub", "elasticsearch", "ec2-metadata", "us-east-1", "eu-west-2", "ap-southeast-1", "compute-1", "office365-cdn", "web2py", "cdn77-ssl", "s3-website"}

// dgaSamples are generated labels of the shape published DGA analyses
// show (random letters, letters and digits, hex-like).
var dgaSamples = []string{"kqbrqbpdgaksc", "xqzvkjdhe", "ydqtkptuwsa", "jqrlmwfyyb", "q8zv1mrk4tj0pl", "x7hq2kd9vbn3wz", "ocmgdwzjqaomq",
	"wvgxhbnpqisry", "nvjwoofansjbh", "uxfaczrmlqgsyk", "1vrlr5d1lyjcr1gzk9h4gxhrp", "bqxzwvbmkcnaxmw", "pjyqmpbcsbgl"}

// TestDGAModel: no popular label scores as generated, the samples do, and
// so do most random labels (a burst of several decides, not one name).
func TestDGAModel(t *testing.T) {
	m := DefaultConfig().DGA
	for _, l := range popularLabels {
		if m.Generated(l) {
			t.Errorf("%s scores %.2f: generated", l, m.Score(l))
		}
	}
	for _, l := range dgaSamples {
		if !m.Generated(l) {
			t.Errorf("%s scores %.2f: not generated", l, m.Score(l))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, set := range []string{"abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789"} {
		hit := 0
		for i := 0; i < 1000; i++ {
			b := make([]byte, 10+r.IntN(11))
			for j := range b {
				b[j] = set[r.IntN(len(set))]
			}
			if m.Generated(string(b)) {
				hit++
			}
		}
		if hit < 700 {
			t.Errorf("random labels over %d characters: %d of 1000 score as generated", len(set), hit)
		}
	}
}
