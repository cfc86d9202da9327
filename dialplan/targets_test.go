package dialplan

import (
	"reflect"
	"testing"

	"pbx/callctl"
	"pbx/store"
)

// A binding registered through an edge proxy is dialled through it, with
// its Path as the Route set; a direct one gets no Route set.
func TestTargetsFollowPath(t *testing.T) {
	path := "<sip:198.51.100.1:5060;lr;received=sip:192.0.2.7:40312>"
	got := Targets([]store.Binding{
		{DeviceID: "d1", Contact: "sip:a@192.0.2.7", Source: "192.0.2.7:40312", Transport: "UDP"},
		{DeviceID: "d2", Contact: "sip:b@192.0.2.7", Source: "198.51.100.1:5060", Transport: "udp", Path: path},
	})
	want := []callctl.Target{
		{URI: "sip:a@192.0.2.7", Via: "192.0.2.7:40312", Transport: "udp", DeviceID: "d1"},
		{URI: "sip:b@192.0.2.7", Via: "198.51.100.1:5060", Transport: "udp", DeviceID: "d2", RouteSet: []string{path}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Targets:\n got %+v\nwant %+v", got, want)
	}
}
