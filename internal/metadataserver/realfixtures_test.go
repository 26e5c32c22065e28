package metadataserver

import (
	"testing"

	"rancher-traefik/internal/sharedfixtures"
)

// The real answers documents of rancher-metadata (its example/ folder),
// kept beside the checkout in ../shared/fixtures: checked in addition to
// the project's own fixtures, skipped where absent, required in CI.

func TestRealAnswersFixture(t *testing.T) {
	_, url := serve(t, sharedfixtures.RancherMetadata(t, "answers.yml"), true)
	checkFetches(t, url, []fetchCase{
		{"versions", "/", "", nil, 200, "2015-07-25\n2015-12-19\nlatest\n"},
		{"version", "/2015-07-25/version", "", nil, 200, "20-aff454dabf2760385d247a5955488ff375b8230edefe079d3748ab44426edd9f"},
		{"map", "/2015-07-25/services/0", "", nil, 200, "containers/\ncreate_index\nexpose/\nexternal_ips/\nfqdn\nhostname\nkind\nlabels/\nlinks/\nmetadata/\nname\nports/\nscale\nsidekicks/\nstack_name\nuuid\nvip\n"},
		{"named items", "/latest/containers", "", nil, 200, "0=Default_alena_1\n1=Network+Agent\n"},
		{"escaped keys", "/latest/containers/0/labels", "", nil, 200, "io.rancher.container.pull_image\nio.rancher.project.name\nio.rancher.project_service.name\nio.rancher.scheduler.affinity%3Acontainer_label_soft\nio.rancher.service.deployment.unit\nio.rancher.service.launch.config\nio.rancher.stack.name\nio.rancher.stack_service.name\n"},
		{"names", "/2015-12-19/stacks/0/services", "", nil, 200, "0\n"},
		{"by name", "/2015-07-25/stacks/Default/services/alena/name", "", nil, 200, "alena"},
		{"by name with a space", "/latest/containers/Network+Agent/primary_ip", "", nil, 200, "10.42.185.183"},
		{"by uuid", "/2015-07-25/containers/57ad0af4-01a9-44cb-862c-0e2ed80c6bdb/primary_ip", "", nil, 200, "10.42.75.49"},
		{"missing", "/latest/nope", "", nil, 404, "Not found\n"},
		{"invalid version", "/1999-01-01/version", "application/json", nil, 404, `{"code":404,"message":"Invalid version","type":"error"}` + "\n"},
		{"self", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.42.75.49"}, 200, "Default_alena_1"},
		{"self of the agent", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.42.185.183"}, 200, "Network Agent"},
		{"its null stack", "/latest/self/stack", "application/json", []string{"X-Forwarded-For", "10.42.185.183"}, 200, "null"},
		{"unknown client", "/latest/self/container/name", "", []string{"X-Forwarded-For", "10.9.9.9"}, 404, "Not found\n"},
	})
}

func TestRealSimpleFixture(t *testing.T) {
	_, url := serve(t, sharedfixtures.RancherMetadata(t, "simple.yml"), true)
	checkFetches(t, url, []fetchCase{
		{"exact", "/latest/KEY3", "", nil, 200, "value3b"},
		{"exact lower", "/latest/key3", "", nil, 200, "value3a"},
		{"retried lower-cased", "/latest/Key1", "", nil, 200, "value1"},
		{"nested", "/latest/arbitrarily/nested", "", nil, 200, "0\n1\n2\n3\n4\n5\n6\n"},
		{"int", "/latest/arbitrarily/nested/4", "", nil, 200, "42"},
		{"per client", "/2015-12-19/key1", "", []string{"X-Forwarded-For", "10.1.2.2"}, 200, "value3"},
		{"per client, default's other keys", "/2015-12-19/key2", "", []string{"X-Forwarded-For", "10.1.2.2"}, 200, "value2"},
	})
}
